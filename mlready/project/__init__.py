"""The Python API: a project's steps from a notebook or a script, with results that render.

from mlready import Project

project = Project("sample_project")
run = project.train()          # a TrainRun: run.passed, run.report, run.to_dict()
run                            # in Jupyter: a summary and the training report
"""

from mlready.project.api import Project
from mlready.project.results import (
    DriftRun,
    ReadinessRun,
    RegisterRun,
    Registration,
    ServeRun,
    StepRun,
    TrainRun,
    ValidationRun,
)

__all__ = [
    "DriftRun",
    "Project",
    "ReadinessRun",
    "RegisterRun",
    "Registration",
    "ServeRun",
    "StepRun",
    "TrainRun",
    "ValidationRun",
]
