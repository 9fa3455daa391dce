"""The project spec: models, loading and the JSON Schema."""

from mlready.spec.loading import DEFAULT_SPEC_NAME, LoadedSpec, find_spec_path, load_spec
from mlready.spec.models import METRICS, ProjectSpec

__all__ = [
    "DEFAULT_SPEC_NAME",
    "METRICS",
    "LoadedSpec",
    "ProjectSpec",
    "find_spec_path",
    "json_schema",
    "load_spec",
]


def json_schema() -> dict:
    """The JSON Schema of mlready.yaml, generated from the models (for editors)."""
    schema = ProjectSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlready project spec"
    return schema
