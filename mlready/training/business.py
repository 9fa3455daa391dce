"""Business value: outcomes turned into money, and the decision threshold that earns the most.

For a binary classifier each row falls in one outcome (true/false positive/negative) at a given
threshold, and the spec gives each outcome an amount per row: ``constant + multiplier x column``.
The value of a threshold is the sum over rows. Every distinct score is a candidate threshold
("positive when the score is at least t"); one sort and one cumulative sum give all of them.
For regression the value is minus the cost of the absolute errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlready.spec.models import BusinessSection, MoneyValue

OUTCOMES = ("true_positive", "false_positive", "true_negative", "false_negative")
DEFAULT_THRESHOLD = 0.5


def money(value: MoneyValue, frame: Any) -> Any:
    """The amount per row for one outcome (a column's missing values count as 0)."""
    import numpy as np

    amount = np.full(len(frame), value.constant, dtype=float)
    if value.column is not None:
        column = np.asarray(frame[value.column], dtype=float)
        amount = amount + value.multiplier * np.nan_to_num(column, nan=0.0)
    return amount


def outcome_amounts(business: BusinessSection, frame: Any) -> dict[str, Any]:
    """Amount per row for each of the four outcomes."""
    return {outcome: money(getattr(business, outcome), frame) for outcome in OUTCOMES}


@dataclass(frozen=True)
class Confusion:
    """Counts and money of each outcome at one threshold."""

    threshold: float
    counts: dict[str, int]
    amounts: dict[str, float]

    @property
    def value(self) -> float:
        return float(sum(self.amounts.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "value": self.value,
            "counts": self.counts,
            "amounts": self.amounts,
        }


def confusion_at(y: Any, scores: Any, amounts: dict[str, Any], threshold: float) -> Confusion:
    """Which rows fall in each outcome when 'positive' means score >= threshold, and their money."""
    import numpy as np

    y = np.asarray(y).astype(bool)
    predicted = np.asarray(scores) >= threshold
    masks = {
        "true_positive": predicted & y,
        "false_positive": predicted & ~y,
        "true_negative": ~predicted & ~y,
        "false_negative": ~predicted & y,
    }
    return Confusion(
        threshold=float(threshold),
        counts={k: int(v.sum()) for k, v in masks.items()},
        amounts={k: float(amounts[k][v].sum()) for k, v in masks.items()},
    )


def value_curve(y: Any, scores: Any, amounts: dict[str, Any]) -> tuple[Any, Any]:
    """(thresholds, values): the value for every distinct score as threshold, highest first,
    plus one threshold above every score (nobody positive) at the end."""
    import numpy as np

    y = np.asarray(y).astype(bool)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    s, yy = scores[order], y[order]
    # value when nobody is positive: negatives' money
    base = float(np.where(y, amounts["false_negative"], amounts["true_negative"]).sum())
    gain = np.where(
        yy,
        amounts["true_positive"][order] - amounts["false_negative"][order],
        amounts["false_positive"][order] - amounts["true_negative"][order],
    )
    cumulative = base + np.cumsum(gain)
    # the last row of each run of equal scores: all rows with score >= s are positive there
    last = np.r_[s[1:] != s[:-1], True] if len(s) else np.array([], dtype=bool)
    thresholds = np.r_[s[last], np.inf]
    values = np.r_[cumulative[last], base]
    return thresholds, values


@dataclass(frozen=True)
class BusinessValue:
    """The value at the default threshold and at the threshold that maximises it."""

    currency: str
    rows: int
    default: Confusion
    best: Confusion
    curve: list[tuple[float, float]]  # (threshold, value) for the chart, thresholds within [0, 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "rows": self.rows,
            "default_threshold": self.default.to_dict(),
            "best_threshold": self.best.to_dict(),
            "gain_over_default": self.best.value - self.default.value,
            "curve": [[round(t, 6), round(v, 4)] for t, v in self.curve],
        }


def optimise_threshold(
    y: Any,
    scores: Any,
    amounts: dict[str, Any],
    currency: str,
    points: int = 101,
    default: float = DEFAULT_THRESHOLD,
) -> BusinessValue:
    """The threshold with the highest value (the highest such threshold on ties)."""
    import numpy as np

    thresholds, values = value_curve(y, scores, amounts)
    best_index = int(np.argmax(values))  # thresholds run high to low: ties keep the highest
    best = float(thresholds[best_index])
    if not np.isfinite(best):  # nobody positive is best: any threshold above every score
        best = float(np.nextafter(np.max(scores), np.inf)) if len(scores) else 1.0
    low, high = (0.0, 1.0)
    if default != DEFAULT_THRESHOLD and len(scores):  # decision-function scores: their range
        low, high = float(np.min(scores)), float(np.max(scores))
    grid = np.linspace(low, high, points)
    distinct, nobody = thresholds[:-1], float(values[-1])
    ascending = distinct[::-1]
    above = len(distinct) - np.searchsorted(ascending, grid, side="left")  # scores >= t
    curve = [
        (float(t), float(values[k - 1]) if k else nobody) for t, k in zip(grid, above, strict=True)
    ]
    return BusinessValue(
        currency=currency,
        rows=len(y),
        default=confusion_at(y, scores, amounts, default),
        best=confusion_at(y, scores, amounts, best),
        curve=curve,
    )


def regression_value(y: Any, predictions: Any, cost_per_unit: float) -> float:
    """Minus the cost of the absolute errors."""
    import numpy as np

    return -float(cost_per_unit * np.abs(np.asarray(y) - np.asarray(predictions)).sum())


def regression_baseline_value(y: Any, cost_per_unit: float) -> float:
    """The value of predicting every row as the median: what no model earns."""
    import numpy as np

    values = np.asarray(y, dtype=float)
    if not len(values):
        return 0.0
    return regression_value(values, np.full(len(values), float(np.median(values))), cost_per_unit)
