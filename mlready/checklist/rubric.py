"""The readiness rubric: the 28 tests of the ML Test Score in its four sections, plus a Business
section, each joined to the items of the seed articles' production checklist.

Static text only; how each item is checked against the evidence lives in ``items.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BANDS", "EARNS", "ITEMS", "SECTIONS", "SEED_CHECKLIST", "Earns", "Item", "band_of"]


@dataclass(frozen=True)
class Item:
    """One rubric item: what it asks, why it matters, how mlready checks it."""

    id: str
    section: str
    title: str
    why: str
    how: str
    seeds: tuple[int, ...] = ()
    #: False when no command can produce the evidence: a person attests it (0.5 at most).
    automated: bool = True


#: Section key, title, and the scale its score is read on (the ML Test Score's sections hold 7
#: items each; Business holds 2 and is stretched to the same 0-7 scale before the minimum).
SECTIONS: dict[str, str] = {
    "data": "Data",
    "model": "Model",
    "infra": "Infrastructure",
    "monitor": "Monitoring",
    "business": "Business",
}

#: The production checklist of the seed articles (see ../shared/REFERENCES.md), by number.
SEED_CHECKLIST: dict[int, str] = {
    1: "Business metric: ML metrics turned into money a stakeholder understands",
    2: "Validation fixed in advance: metric, time period, user group; data and code shared",
    3: "Batch or real time; how often predictions are needed; latency",
    4: "SLA agreed; run time under the output period with a safety margin",
    5: "Production data is the data trained on; data quality watched; invalid input rejected early",
    6: "Same processing in training and production: the pipeline is part of the product",
    7: "Data drift monitored; retrain when it degrades the model",
    8: "CI/CD: build, test and deploy automatically",
    9: "Model registry: versions with their metadata",
    10: "Serving as a batch process; a prediction cache with an invalidation rule",
    11: "Monitoring of statistical and computational performance; alerts with owner and action",
    12: "Bulletproof cross-validation (time-ordered data); combining models",
    13: "Each feature's contribution measured; complexity against accuracy; tuned hyperparameters",
    14: "Portable formats; pickle avoided or guarded",
    15: "Parallel and distributed execution where the data needs it",
}

_ITEMS = [
    # ------------------------------------------------------------------------------------ data
    Item(
        "data-1",
        "data",
        "Feature expectations are captured in a schema",
        "Bad input is caught before it reaches the model instead of turning into bad predictions.",
        "Every feature has a type, range or allowed values under expectations.columns, and "
        "validate-data (or train's own validation) checks the training data against them.",
        (5,),
    ),
    Item(
        "data-2",
        "data",
        "All features are beneficial",
        "A feature that adds nothing still has to be collected, checked and monitored.",
        "train measures each feature's contribution (permutation importance on held-out rows) "
        "and names the features that add nothing measurable.",
        (13,),
    ),
    Item(
        "data-3",
        "data",
        "No feature costs more than it brings",
        "A useless feature that drifts or breaks the contract raises alarms for nothing.",
        "A feature that adds nothing measurable (train) and has drifted (check-drift) or brought "
        "unseen categories into serving (serve-batch) is pure cost.",
        (13,),
    ),
    Item(
        "data-4",
        "data",
        "Features meet meta-level requirements",
        "Identifiers and outcome proxies in the features leak the answer or a person's identity.",
        "data.forbidden_columns that the data holds can never be features; train finds them, "
        "looks for target proxies and for rows that break time order between training and "
        "validation.",
        (5,),
    ),
    Item(
        "data-5",
        "data",
        "The data pipeline has privacy controls",
        "Personal data needs a legal basis and access controls that no tool can verify alone.",
        "A person (for example the data protection officer) attests it under "
        "checklist.attestations.",
        (5,),
        automated=False,
    ),
    Item(
        "data-6",
        "data",
        "New features can be added quickly",
        "A slow path from idea to served feature keeps the model behind the business.",
        "A person attests it; with mlready a feature is one line in data.features, validated, "
        "trained, served and monitored with no new code.",
        (6,),
        automated=False,
    ),
    Item(
        "data-7",
        "data",
        "All input feature code is tested",
        "Feature code is code: untested, it fails silently.",
        "`mlready test` runs the project's own tests (checklist.test_command) and keeps their "
        "JUnit XML; at least one test must run and none fail.",
        (8,),
    ),
    # ----------------------------------------------------------------------------------- model
    Item(
        "model-1",
        "model",
        "The model spec is reviewed and checked in",
        "A model nobody can rebuild from reviewed, versioned inputs cannot be audited or fixed.",
        "The spec file is tracked by git with no uncommitted changes, and the model was trained "
        "from the spec as committed (the training run's provenance).",
        (2, 9),
    ),
    Item(
        "model-2",
        "model",
        "Offline and online metrics agree",
        "An offline score that does not hold on served data overstates what the model is worth.",
        "check-drift --outcomes measures the primary metric on served, labelled rows against the "
        "value training judged the model on.",
        (1, 11),
    ),
    Item(
        "model-3",
        "model",
        "Hyperparameters are tuned",
        "Untuned defaults leave accuracy (and money) on the table.",
        "train runs the search in model.search on the same folds as the validation, over two "
        "distinct configurations or more.",
        (13,),
    ),
    Item(
        "model-4",
        "model",
        "The impact of model staleness is known",
        "Without it nobody knows how often to retrain.",
        "check-drift --outcomes records realized performance together with the model's age; "
        "monitoring.max_model_age_days sets the limit that follows from it.",
        (7,),
    ),
    Item(
        "model-5",
        "model",
        "A simpler model is not better",
        "Complexity costs run time, memory and explanations; it has to pay for itself.",
        "train scores a dummy and a linear baseline on the same folds; the model must beat the "
        "linear one by more than the folds' spread.",
        (12, 13),
    ),
    Item(
        "model-6",
        "model",
        "Quality is sufficient on all important data slices",
        "A good average can hide a group the model serves badly.",
        "train computes every metric per slice (validation.slices); each slice with enough rows "
        "must meet validation.thresholds.",
        (2,),
    ),
    Item(
        "model-7",
        "model",
        "The model is tested for inclusion",
        "Fairness across groups of people is a judgment the metrics inform but do not make.",
        "A person attests it after reading the per-slice metrics train reports.",
        (2,),
        automated=False,
    ),
    # ---------------------------------------------------------------------------- infrastructure
    Item(
        "infra-1",
        "infra",
        "Training is reproducible",
        "A model that cannot be trained again cannot be debugged, audited or rolled forward.",
        "train --check-reproducible trains twice and compares; two train runs on the same data "
        "fingerprint, spec and mlready version must produce the same artifact (sha256).",
        (2, 9),
    ),
    Item(
        "infra-2",
        "infra",
        "The model spec is unit tested",
        "A typo in a hyperparameter should fail in seconds, not after an hour of training.",
        "Every train run checks the spec against its schema and the estimator's own parameter "
        "constraints before it reads any data.",
        (8,),
    ),
    Item(
        "infra-3",
        "infra",
        "The ML pipeline is integration tested",
        "Steps that work alone can still break each other.",
        "The run log shows the whole pipeline (validate-data, train, register, serve-batch, "
        "check-drift) running, and running again.",
        (6, 8),
    ),
    Item(
        "infra-4",
        "infra",
        "Model quality is validated before serving",
        "A worse model must not reach production just because it is newer.",
        "register's gate: the thresholds, then the promotion metric against production on the "
        "same holdout; every decision is kept in the registry's history.",
        (9,),
    ),
    Item(
        "infra-5",
        "infra",
        "The model is debuggable",
        "When a prediction looks wrong, someone has to be able to see why.",
        "Each version in the registry keeps its verified artifact in a format that can be "
        "inspected without running it (skops, not pickle), its metadata (features, input "
        "example, per-fold and per-slice metrics, feature contributions) and a training report.",
        (9, 14),
    ),
    Item(
        "infra-6",
        "infra",
        "Models are canaried before serving",
        "A model that cannot load or predict in the serving path must fail before the batch.",
        "serve-batch loads the sha256-verified artifact and predicts the recorded input example "
        "before it scores a row.",
        (10, 14),
    ),
    Item(
        "infra-7",
        "infra",
        "Serving models can be rolled back",
        "When a new model misbehaves, the fix is the previous one, in minutes.",
        "The registry holds an earlier production version that passed the gate, its artifact "
        "intact, and a recorded rollback (a drill with `mlready registry rollback`).",
        (9,),
    ),
    # -------------------------------------------------------------------------------- monitoring
    Item(
        "monitor-1",
        "monitor",
        "Dependency changes are noticed",
        "A new library version can change predictions without any change to the model.",
        "check-drift compares every package recorded at training time (and Python) with the "
        "ones installed, and fires the spec's environment alert.",
        (11, 14),
    ),
    Item(
        "monitor-2",
        "monitor",
        "Data invariants hold in training and serving inputs",
        "Serving data that breaks the contract produces predictions nobody should trust.",
        "validate-data checks each batch; serve-batch checks every row against the serving "
        "expectations and sets invalid ones aside with their reasons.",
        (5,),
    ),
    Item(
        "monitor-3",
        "monitor",
        "Training and serving inputs match",
        "Training-serving skew silently degrades a model that looked fine offline.",
        "serve-batch scores with the very pipeline train fitted (sha256-verified); check-drift "
        "compares each served feature with its training distribution.",
        (6, 7),
    ),
    Item(
        "monitor-4",
        "monitor",
        "Models are not too stale",
        "The world moves; a model trained long ago describes a world that is gone.",
        "check-drift measures the production model's age against monitoring.max_model_age_days.",
        (7,),
    ),
    Item(
        "monitor-5",
        "monitor",
        "The model is numerically stable",
        "A NaN or infinite score turns into a wrong decision without an error.",
        "serve-batch fails the run, writing nothing, when any prediction is NaN or infinite.",
        (11,),
    ),
    Item(
        "monitor-6",
        "monitor",
        "Computing performance has not regressed",
        "A batch that gets slower every month misses its deadline one day.",
        "serve-batch records run time, rows per second and peak memory for every batch against "
        "the SLA's budget; mlready serve records availability and p99 latency against "
        "serving.realtime.p99_ms.",
        (3, 4, 11, 15),
    ),
    Item(
        "monitor-7",
        "monitor",
        "Prediction quality has not regressed on served data",
        "The model's value to the business is measured on the data it serves.",
        "check-drift compares served scores with the training scores and, with outcomes, the "
        "realized metric with training's.",
        (7, 11),
    ),
    # ---------------------------------------------------------------------------------- business
    Item(
        "business-1",
        "business",
        "A business metric is defined and positive",
        "A stakeholder decides on money, not on ROC AUC.",
        "The spec's business section prices each outcome; train reports the value at the chosen "
        "decision threshold, and check-drift --outcomes the value realized on served data.",
        (1,),
    ),
    Item(
        "business-2",
        "business",
        "The SLA is agreed and met",
        "Predictions that arrive late are worth nothing to the team that acts on them.",
        "serving.sla states the output period and the run-time budget; every serve-batch run "
        "is measured against it.",
        (3, 4),
    ),
]

ITEMS: dict[str, Item] = {item.id: item for item in _ITEMS}


@dataclass(frozen=True)
class Earns:
    """What earns an item half a point, what earns the full point, and why a placeholder
    (a file, a setting or a run that checks nothing) earns neither."""

    half: str
    full: str
    guard: str


#: "Repeated" below is the general rule of the Points section: runs made automatically (CI or a
#: schedule) on two distinct commits or days or more, the latest passing now.
_REPEATED = "The same, repeated automatically, the latest passing."

EARNS: dict[str, Earns] = {
    "data-1": Earns(
        "Every feature has an expectation that limits its values (numbers: `min`/`max` or "
        "`allowed_values`; categories: `allowed_values` or `regex`) and a validation of the "
        "training data ran and passed.",
        _REPEATED,
        "A bare `type` limits nothing, nor does a range whose bounds are infinite or 1e12 or "
        "more in size, nor a `regex` that matches any text (it matches the empty string, `x` "
        "and `any text 123 !`); one uncovered feature fails the item, none covered is not "
        "done.",
    ),
    "data-2": Earns(
        "A training run measured every feature's permutation importance on held-out rows and "
        "none adds nothing.",
        _REPEATED,
        "Measured by train on the model's own data; a flagged feature fails the item.",
    ),
    "data-3": Earns(
        "Contributions measured, and a batch served or checked since, with no useless feature "
        "that drifted or brought unseen categories.",
        _REPEATED,
        "Not done until a batch was served after the model was trained: no cost is known before.",
    ),
    "data-4": Earns(
        "A training run found at least one of `data.forbidden_columns` in the data, used none "
        "as a feature, and found no target proxy or time-order break.",
        _REPEATED,
        "Forbidden columns the data does not hold keep nothing out, nor do the target and "
        "`data.id_columns` (never features anyway): not done.",
    ),
    "data-5": Earns(
        "An attestation (who, when, evidence).",
        "Never: attested items are worth 0.5 at most.",
        "Only a named person's attestation counts.",
    ),
    "data-6": Earns(
        "An attestation (who, when, evidence).",
        "Never: attested items are worth 0.5 at most.",
        "Only a named person's attestation counts.",
    ),
    "data-7": Earns(
        "`mlready test` ran `checklist.test_command`; its JUnit XML (kept in the run, sha256 "
        "checked) holds at least one test that ran, no failure and no error, and the command "
        "exited 0.",
        _REPEATED,
        "Test files or a CI file that mentions tests prove nothing; an empty suite fails.",
    ),
    "model-1": Earns(
        "The spec is tracked and has no local change, and the model judged was trained from "
        "the spec as committed (its run's provenance: `spec_committed`).",
        "The same, from training runs repeated automatically.",
        "A CI file proves nothing; a modified spec, or a model trained from one, fails.",
    ),
    "model-2": Earns(
        "`check-drift --outcomes` measured the primary metric on a labelled served batch (30 "
        "labelled rows or more) with no performance drop.",
        "The same on two distinct batches or more, repeated automatically.",
        "The same batch checked again counts once; under 30 labelled rows is not done (so is "
        "the realized business value).",
    ),
    "model-3": Earns(
        "The model judged came from a search that scored at least 2 distinct configurations "
        "on the validation folds.",
        _REPEATED,
        "A search over one configuration is a fixed choice: not done.",
    ),
    "model-4": Earns(
        "Realized performance measured (on 30 labelled rows or more) at one model age, with "
        "`monitoring.max_model_age_days` set.",
        "Measured at two ages or more.",
        "One batch checked twice is one measurement; no age limit fails.",
    ),
    "model-5": Earns(
        "Train's linear baseline, on the same folds, is beaten by more than the folds' spread.",
        _REPEATED,
        "A baseline as good as the model fails the item.",
    ),
    "model-6": Earns(
        "Every slice group with 30 rows or more meets `validation.thresholds`, and at least "
        "one group was compared with a bar.",
        _REPEATED,
        "A group below a bar fails the item; no threshold (or no group compared) is not done.",
    ),
    "model-7": Earns(
        "An attestation (who, when, evidence) after reading the per-slice metrics.",
        "Never: attested items are worth 0.5 at most.",
        "Only a named person's attestation counts.",
    ),
    "infra-1": Earns(
        "`train --check-reproducible`, or two training runs on the same data, spec and mlready "
        "version, gave the same model.",
        _REPEATED,
        "Compared by sha256 of the artifacts; a different model fails.",
    ),
    "infra-2": Earns(
        "A training run checked the spec and the estimator's parameters before reading data, "
        "with no later attempt in error.",
        _REPEATED,
        "A later training attempt that ended in an error fails the item.",
    ),
    "infra-3": Earns(
        "validate-data, train, register, serve-batch and check-drift have each run, none "
        "ending in an error since.",
        "Every step has run twice or more, automatically.",
        "Rounds are the smallest count over the steps: one step run often does not count.",
    ),
    "infra-4": Earns(
        "The production version went through register's gate without `--force` and meets its "
        "thresholds.",
        _REPEATED,
        "A forced promotion fails the item.",
    ),
    "infra-5": Earns(
        "The model's metadata and training report are on disk, and production's artifact "
        "matches its sha256 and is stored as skops.",
        _REPEATED,
        "A missing file, a changed artifact, or a model stored as joblib (pickle: it cannot be "
        "inspected without running it) fails the item.",
    ),
    "infra-6": Earns(
        "serve-batch (or mlready serve) loaded the verified artifact and predicted its input "
        "example before scoring, and the latest canary passed.",
        _REPEATED,
        "A batch answered from the cache checked nothing and does not count.",
    ),
    "infra-7": Earns(
        "An earlier production version that passed the gate (not forced), its artifact "
        "verified, and a rollback recorded in the registry (a drill: `mlready registry "
        "rollback`, then promote again).",
        "Never yet: rollback drills live in the registry database, outside the run log, with no "
        "provenance, so they count as done by hand (0.5 at most).",
        "A re-promotion of the same version leaves nothing to roll back to: not done; no "
        "recorded rollback is not done.",
    ),
    "monitor-1": Earns(
        "check-drift compared the installed packages with training's and found no change.",
        "Repeated automatically, and an alert rule on `environment` whose every channel "
        "received a test alert.",
        "Without a tested alert rule nobody is told: 0.5 at most.",
    ),
    "monitor-2": Earns(
        "Serving inputs were checked (serve-batch or validate-data on serving data) and the "
        "newest batch kept the contract.",
        "Repeated automatically, and an alert rule on `data_invalid` whose every channel "
        "received a test alert.",
        "Without a tested alert rule nobody is told: 0.5 at most; cached batches do not count; "
        "a batch is as new as the first time it was served or checked (by its input path), so "
        "checking an earlier batch again does not replace a newer one's verdict.",
    ),
    "monitor-3": Earns(
        "check-drift compared the newest batch's features with training's and found no dataset "
        "drift.",
        "Repeated automatically, and an alert rule on `dataset_drift` or `feature_drift` whose "
        "every channel received a test alert.",
        "Without a tested alert rule nobody is told: 0.5 at most; the newest batch is the one "
        "first served or checked last, so checking an earlier batch again clears nothing.",
    ),
    "monitor-4": Earns(
        "check-drift measured the model's age within `monitoring.max_model_age_days`.",
        "Repeated automatically, and an alert rule on `model_age` whose every channel received "
        "a test alert.",
        "Without a limit it is not done; without a tested alert rule, 0.5 at most.",
    ),
    "monitor-5": Earns(
        "serve-batch checked every prediction for NaN or infinity and found none.",
        _REPEATED,
        "serve-batch itself fails and writes nothing, so no alert rule is needed; cached "
        "batches do not count.",
    ),
    "monitor-6": Earns(
        "serve-batch measured run time against the SLA budget, within budget and throughput; "
        "or, when the latest measured run is `mlready serve`'s, it answered /predict with at "
        "least 99.9% availability and no latency window over serving.realtime.p99_ms.",
        "Repeated automatically, and an alert rule on `sla_breach` whose every channel received "
        "a test alert.",
        "Without a tested alert rule nobody is told: 0.5 at most; a batch answered from the "
        "cache measured nothing and does not count.",
    ),
    "monitor-7": Earns(
        "check-drift compared served scores with training's, with no prediction drift or "
        "performance drop.",
        "Repeated automatically, and an alert rule on `performance_drop` or `prediction_drift` "
        "whose every channel received a test alert.",
        "Without a tested alert rule nobody is told: 0.5 at most.",
    ),
    "business-1": Earns(
        "A training run priced the predictions and the value is positive: a classifier's at "
        "its chosen threshold, a regressor's saving against no model (every row the median); "
        "the realized value, when measured, positive too.",
        _REPEATED,
        "A regressor's cost of errors is always negative: it is judged by what it saves.",
    ),
    "business-2": Earns(
        "`serving.sla` declared and the latest scoring run within its budget.",
        _REPEATED,
        "An SLA nobody measured is not done; a missed budget fails; a batch answered from the "
        "cache measured nothing and does not count.",
    ),
}

#: (upper bound, name, meaning) in the ML Test Score's words, read on the 0-7 scale.
BANDS: tuple[tuple[float, str, str], ...] = (
    (0.0, "research project", "Nothing is checked automatically yet: treat it as an experiment."),
    (1.0, "serious holes", "Some checks exist, but failures could reach users unnoticed."),
    (2.0, "first pass", "The basics are in place; much is still done by hand or not at all."),
    (3.0, "reasonably tested", "Most risks are covered; automate the remaining checks."),
    (5.0, "strong", "Automated tests and monitoring fit for a business-critical system."),
    (float("inf"), "exceptional", "Tested and monitored beyond what most systems reach."),
)


def band_of(score: float) -> tuple[str, str]:
    """The band a final score (0-7) falls in, with its meaning."""
    for upper, name, meaning in BANDS:
        if score <= upper + 1e-9:
            return name, meaning
    raise AssertionError("unreachable: the last band has no upper bound")  # pragma: no cover


RUBRIC_BEGIN = "<!-- BEGIN GENERATED RUBRIC: make docs -->"
RUBRIC_END = "<!-- END GENERATED RUBRIC -->"


EARNS_BEGIN = "<!-- BEGIN GENERATED POINTS: make docs -->"
EARNS_END = "<!-- END GENERATED POINTS -->"


def earns_markdown() -> str:
    """What earns each item 0.5 and 1, and why a placeholder cannot (for docs/readiness.md)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        EARNS_BEGIN,
        "",
        "| id | item | 0.5 | 1 | why a placeholder cannot |",
        "|---|---|---|---|---|",
    ]
    for key, item in ITEMS.items():
        earns = EARNS[key]
        lines.append(
            f"| `{key}` | {item.title} | {cell(earns.half)} | {cell(earns.full)} | "
            f"{cell(earns.guard)} |"
        )
    lines += ["", EARNS_END]
    return "\n".join(lines)


def rubric_markdown() -> str:
    """The rubric as Markdown tables, one per section (for docs/readiness.md)."""
    lines = [RUBRIC_BEGIN]
    for key, title in SECTIONS.items():
        lines += [
            "",
            f"### {title}",
            "",
            "| id | item | how mlready checks it | checklist |",
            "|---|---|---|---|",
        ]
        for item in ITEMS.values():
            if item.section == key:
                how = item.how.replace("|", "\\|")
                if not item.automated:
                    how += " *(attested only: 0.5 at most)*"
                seeds = ", ".join(str(n) for n in item.seeds)
                lines.append(f"| `{item.id}` | {item.title} | {how} | {seeds} |")
    lines += ["", RUBRIC_END]
    return "\n".join(lines)
