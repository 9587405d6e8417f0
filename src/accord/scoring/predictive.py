"""The predictive model: features as of a snapshot, time-ordered training, calibration, metrics.

No Django: the service hands over numpy arrays read by the selectors. Every feature of a
training row is computed from what had happened by the row's snapshot instant (the lead's
creation plus a few days), so nothing from the future reaches the model.
"""

from __future__ import annotations

import io
import pickle
import weakref
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from threadpoolctl import ThreadpoolController

from accord.scoring.domain import (
    EVENT_KINDS,
    EVENT_TEXT,
    INDUSTRY_TEXT,
    REGION_TEXT,
    SENIORITY_TEXT,
    SIZE_TEXT,
    LeadColumns,
    events_as_of,
    group_min,
    score_rules,
)
from accord.scoring.rules import (
    CHANNELS,
    INDUSTRIES,
    REGIONS,
    SENIORITIES,
    SIZE_BANDS,
    RulesDocument,
)

DAY = 86_400
CATEGORICAL = ("industry", "size_band", "region", "seniority", "channel", "segment")
MIN_LABELLED = 200
MIN_POSITIVES = 20
# Each window (training, calibration, evaluation) needs this many snapshots of each class:
# calibration is cross-validated in five stratified folds, and a held-out ROC AUC from a
# couple of conversions says nothing.
MIN_PER_CLASS_IN_WINDOW = 5
MAX_HORIZON_DAYS = 730
# What a training snapshot can be labelled by: code → how the model card says it.
OUTCOMES = {
    "sql": "reached SQL, opportunity or customer",
    "opportunity": "reached opportunity or customer",
    "won": "won a deal",
}


_CONTROLLER: list[ThreadpoolController] = []


def threads_limited(threads: int):
    """Limit OpenMP and BLAS threads within a `with` block.

    The controller, which finds the thread pools by scanning the loaded libraries, is made
    once per process: `threadpool_limits()` made a new one on every call, 25 ms each, a
    quarter of the time of scoring one new lead with the model.
    """
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=threads)


class NotEnoughHistory(ValueError):
    """Raise when the history is too thin to train a model worth trusting."""


@dataclass
class History:
    """Everything about the contacts that features and labels are computed from."""

    leads: LeadColumns
    created_s: np.ndarray
    channel: np.ndarray
    segment: np.ndarray
    event_row: np.ndarray
    event_kind: np.ndarray
    event_s: np.ndarray
    first_mql_s: np.ndarray  # per lead: first time it reached MQL or beyond, int64 max if never
    first_sal_s: np.ndarray
    first_sql_s: np.ndarray  # first time it reached SQL, opportunity or customer
    first_accept_s: np.ndarray
    first_reject_s: np.ndarray
    # Later outcomes a model may be trained to predict; None reads as "never" (no such history).
    first_opportunity_s: np.ndarray | None = None  # reached opportunity or customer
    first_won_s: np.ndarray | None = None  # first won deal the contact is on, at its close
    # Events rolled up from many (a rescore's engagement rollup): how many each stands for and
    # the latest one's time; None when every event is one real touch.
    event_count: np.ndarray | None = None
    event_latest_s: np.ndarray | None = None

    def outcome_s(self, outcome: str) -> np.ndarray:
        """Return each lead's first time of reaching `outcome` (an OUTCOMES code), int64 max if never."""
        if outcome == "sql":
            return self.first_sql_s
        chosen = {"opportunity": self.first_opportunity_s, "won": self.first_won_s}[outcome]
        return chosen if chosen is not None else np.full(len(self.created_s), np.iinfo(np.int64).max)


@dataclass
class Config:
    """What counts as success and how training rows are taken."""

    outcome: str = "sql"
    horizon_days: int = 90
    snapshot_ages_days: tuple[int, ...] = (1, 14, 45)
    rejection_weight: float = 2.0
    eval_fraction: float = 0.25
    calibration_fraction: float = 0.2
    method: str = "isotonic"
    max_iter: int = 300  # at most; early stopping on the calibration slice decides
    seed: int = 0
    # One thread: OpenMP threads spin while waiting, and on a machine shared with the web
    # server and the worker that made training twenty times slower, not faster.
    threads: int = 1

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome: unknown outcome {self.outcome!r}; use one of {', '.join(OUTCOMES)}")
        if not 1 <= self.horizon_days <= MAX_HORIZON_DAYS:
            raise ValueError(f"horizon_days: must be between 1 and {MAX_HORIZON_DAYS}, not {self.horizon_days}")

    @property
    def label(self) -> str:
        """Say what the model predicts, as the model card shows it."""
        return OUTCOMES[self.outcome]


@dataclass
class Dataset:
    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    snapshot_s: np.ndarray
    lead: np.ndarray
    rule_total: np.ndarray
    names: list[str] = field(default_factory=list)


def feature_names(rules: RulesDocument) -> list[str]:
    names = [*CATEGORICAL]
    names += [f"title:{r.label}" for r in rules.fit.title_keywords]
    names += [f"domain:{r.label}" for r in rules.fit.email_domains]
    names += ["lead_age_days", "days_since_last_touch", "rule_fit", "rule_engagement",
              "reached_mql", "reached_sal", "accepted_by_sales", "rejected_by_sales"]
    names += [f"count:{k}" for k in EVENT_KINDS]
    return names


def features_as_of(history: History, rows: np.ndarray, snapshot_s: np.ndarray,
                   rules: RulesDocument) -> tuple[np.ndarray, np.ndarray]:
    """Compute the feature matrix of lead rows `rows` as of `snapshot_s` (one instant per row).

    Returns the matrix and each row's rule total as of the same instant.
    """
    leads = history.leads
    n = len(rows)
    sub = LeadColumns(*(getattr(leads, name)[rows] for name in (
        "contact_id", "industry", "size_band", "region", "seniority", "title_flags", "domain_flags")))
    # Events of the chosen leads, re-indexed to the output rows.
    if n and (n == 1 or bool(np.all(rows[1:] > rows[:-1]))):
        # Each lead once (scoring now): a lookup table, one pass over the events.
        position = np.full(len(leads) + 1, -1, dtype=np.int64)
        position[rows] = np.arange(n)
        out_row = position[history.event_row]
        event_index = np.flatnonzero(out_row >= 0)
        out_row = out_row[event_index]
    else:
        # A lead may appear many times (training snapshots).
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        left = np.searchsorted(sorted_rows, history.event_row, side="left")
        right = np.searchsorted(sorted_rows, history.event_row, side="right")
        repeat = right - left
        event_index = np.repeat(np.arange(len(history.event_row)), repeat)
        offsets = np.arange(len(event_index)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        out_row = order[np.repeat(left, repeat) + offsets]
    rolled_up = history.event_count is not None
    events = events_as_of(row=out_row, kind=history.event_kind[event_index],
                          occurred_s=history.event_s[event_index], as_of_s=snapshot_s,
                          count=history.event_count[event_index] if rolled_up else None,
                          latest_s=history.event_latest_s[event_index] if rolled_up else None)
    scores = score_rules(rules, sub, events, explain=False)
    k = len(EVENT_KINDS)
    counts = np.bincount(events.row * k + events.kind, weights=events.count, minlength=n * k).reshape(n, k)
    last = group_min(events.row, events.latest(), n)

    def categorical(values: np.ndarray) -> np.ndarray:
        return np.where(values >= 0, values, np.nan)

    columns = [categorical(sub.industry), categorical(sub.size_band), categorical(sub.region),
               categorical(sub.seniority), categorical(history.channel[rows]),
               categorical(history.segment[rows])]
    for j in range(len(rules.fit.title_keywords)):
        columns.append(((sub.title_flags >> j) & 1).astype(float))
    for j in range(len(rules.fit.email_domains)):
        columns.append(((sub.domain_flags >> j) & 1).astype(float))
    columns += [
        (snapshot_s - history.created_s[rows]) / DAY,
        np.where(np.isfinite(last), last, np.nan),
        scores.fit.astype(float),
        scores.engagement.astype(float),
        (history.first_mql_s[rows] <= snapshot_s).astype(float),
        (history.first_sal_s[rows] <= snapshot_s).astype(float),
        (history.first_accept_s[rows] <= snapshot_s).astype(float),
        (history.first_reject_s[rows] <= snapshot_s).astype(float),
    ]
    matrix = np.column_stack([*columns, counts.astype(float)])
    return matrix, scores.total


def training_set(history: History, rules: RulesDocument, config: Config, *, as_of_s: int) -> Dataset:
    """Take snapshots of every lead at the configured ages and label them.

    Label: reached the configured outcome (SQL or later, opportunity or later, or a won deal)
    within `horizon_days` after the snapshot. The label reads nothing after snapshot +
    horizon, and the features nothing after the snapshot. A lead that had already reached
    the outcome at the snapshot is left out (nothing to predict); a snapshot whose horizon
    runs past `as_of_s` is left out (its outcome is not known yet). Sales' rejections are
    negative evidence: a lead rejected inside the window that did not reach the outcome is a
    negative with `rejection_weight` times the weight of a silent one.
    """
    horizon = config.horizon_days * DAY
    first = history.outcome_s(config.outcome)
    lead_rows, snapshots = [], []
    for age in config.snapshot_ages_days:
        snapshot = history.created_s + age * DAY
        keep = (snapshot + horizon <= as_of_s) & (first > snapshot)
        lead_rows.append(np.flatnonzero(keep))
        snapshots.append(snapshot[keep])
    rows = np.concatenate(lead_rows) if lead_rows else np.zeros(0, np.int64)
    snapshot_s = np.concatenate(snapshots) if snapshots else np.zeros(0, np.int64)
    X, rule_total = features_as_of(history, rows, snapshot_s, rules)
    converted = first[rows] <= snapshot_s + horizon
    rejected = (history.first_reject_s[rows] > snapshot_s) & (history.first_reject_s[rows] <= snapshot_s + horizon)
    weight = np.where(~converted & rejected, config.rejection_weight, 1.0)
    return Dataset(X, converted.astype(np.int64), weight, snapshot_s, rows, rule_total,
                   feature_names(rules))


def lift_by_decile(y: np.ndarray, score: np.ndarray) -> list[float]:
    """Return each decile's positive rate over the overall rate, highest scores first."""
    if len(y) == 0 or y.mean() == 0:
        return []
    # Ties broken at random but reproducibly, so integer rule scores are not favoured by order.
    jitter = np.random.default_rng(0).random(len(score)) * 1e-9
    order = np.argsort(-(score + jitter), kind="stable")
    base = y.mean()
    return [round(float(part.mean() / base), 3) for part in np.array_split(y[order], 10)]


def metrics(y: np.ndarray, score: np.ndarray) -> dict:
    if len(np.unique(y)) < 2:
        return {"roc_auc": None, "pr_auc": None, "lift_by_decile": []}
    return {
        "roc_auc": round(float(roc_auc_score(y, score)), 4),
        "pr_auc": round(float(average_precision_score(y, score)), 4),
        "lift_by_decile": lift_by_decile(y, score),
    }


@dataclass
class Trained:
    model: CalibratedClassifierCV
    card: dict
    baseline: np.ndarray


def train(data: Dataset, config: Config) -> Trained:
    with threads_limited(config.threads):
        return _train(data, config)


def _train(data: Dataset, config: Config) -> Trained:
    """Fit on the earlier window, calibrate on its latest slice, evaluate on the later window.

    Windows follow snapshot time. Training rows are purged of any whose outcome window
    reaches into the evaluation window, so no outcome seen during evaluation taught the model.
    """
    # Thresholds count leads, not snapshots: three snapshots of one lead are one piece of evidence.
    labelled = len(np.unique(data.lead))
    positives = len(np.unique(data.lead[data.y == 1]))
    if labelled < MIN_LABELLED or positives < MIN_POSITIVES:
        raise NotEnoughHistory(
            f"predictive model unavailable: only {labelled:,} labelled leads and {positives:,} that "
            f"converted; the model needs at least {MIN_LABELLED} and {MIN_POSITIVES}"
        )
    horizon = config.horizon_days * DAY
    eval_start = np.quantile(data.snapshot_s, 1 - config.eval_fraction)
    evaluate = data.snapshot_s >= eval_start
    fit_rows = data.snapshot_s + horizon < eval_start
    train_idx = np.flatnonzero(fit_rows)
    train_idx = train_idx[np.argsort(data.snapshot_s[train_idx], kind="stable")]
    cut = int(len(train_idx) * (1 - config.calibration_fraction))
    base_idx, calib_idx = train_idx[:cut], train_idx[cut:]
    eval_idx = np.flatnonzero(evaluate)
    for name, index in (("training", base_idx), ("calibration", calib_idx), ("evaluation", eval_idx)):
        converted = int(data.y[index].sum())
        if min(converted, len(index) - converted) < MIN_PER_CLASS_IN_WINDOW:
            raise NotEnoughHistory(
                f"predictive model unavailable: the {name} window has {len(index):,} snapshots, "
                f"{converted:,} of them converted; it needs at least {MIN_PER_CLASS_IN_WINDOW} "
                "that converted and as many that did not"
            )
    categorical = [name in CATEGORICAL for name in data.names]
    # Trees are added until the loss on the calibration slice (later than every training row,
    # so still time-ordered) stops improving. On the benchmark's history that is 36 trees
    # instead of 200 with a slightly better held-out ROC AUC (0.650 against 0.641), and
    # prediction, which costs per tree, is three and a half times cheaper: scoring a million
    # leads needs it. The evaluation window still never touches training.
    base = HistGradientBoostingClassifier(
        max_iter=config.max_iter, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, categorical_features=categorical, random_state=config.seed,
        early_stopping=True, scoring="loss", n_iter_no_change=10, tol=1e-5,
    )
    base.fit(data.X[base_idx], data.y[base_idx], sample_weight=data.weight[base_idx],
             X_val=data.X[calib_idx], y_val=data.y[calib_idx], sample_weight_val=data.weight[calib_idx])
    model = CalibratedClassifierCV(FrozenEstimator(base), method=config.method)
    model.fit(data.X[calib_idx], data.y[calib_idx])
    probability = model.predict_proba(data.X[eval_idx])[:, 1]
    y_eval = data.y[eval_idx]
    model_metrics = metrics(y_eval, probability)
    rule_metrics = metrics(y_eval, data.rule_total[eval_idx].astype(float))
    bins = np.clip((probability * 10).astype(int), 0, 9)
    calibration = {
        "predicted_mean": round(float(probability.mean()), 4),
        "observed_rate": round(float(y_eval.mean()), 4),
        "bins": [{"predicted": round(float(probability[bins == b].mean()), 4),
                  "observed": round(float(y_eval[bins == b].mean()), 4), "n": int((bins == b).sum())}
                 for b in range(10) if (bins == b).any()],
    }
    card = {
        "train_start": int(data.snapshot_s[base_idx].min()), "train_end": int(data.snapshot_s[calib_idx].max()),
        "eval_start": int(data.snapshot_s[eval_idx].min()), "eval_end": int(data.snapshot_s[eval_idx].max()),
        "train_size": len(train_idx), "eval_size": len(eval_idx),
        "positive_rate": round(float(data.y[train_idx].mean()), 4),
        "roc_auc": model_metrics["roc_auc"], "pr_auc": model_metrics["pr_auc"],
        "brier": round(float(brier_score_loss(y_eval, probability)), 4),
        "lift_by_decile": model_metrics["lift_by_decile"],
        "rules_roc_auc": rule_metrics["roc_auc"], "rules_pr_auc": rule_metrics["pr_auc"],
        "rules_lift_by_decile": rule_metrics["lift_by_decile"],
        "calibration": calibration,
        "trees": int(base.n_iter_),
    }
    baseline = np.nanmedian(np.where(np.isnan(data.X[base_idx]), np.nan, data.X[base_idx]), axis=0)
    for j, is_categorical in enumerate(categorical):
        if is_categorical:
            values = data.X[base_idx, j]
            values = values[~np.isnan(values)]
            baseline[j] = np.bincount(values.astype(int)).argmax() if len(values) else np.nan
    return Trained(model, card, baseline)


def dumps(model: CalibratedClassifierCV) -> bytes:
    buffer = io.BytesIO()
    pickle.dump(model, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def loads(artifact: bytes) -> CalibratedClassifierCV:
    # Safe only because Accord wrote these bytes itself; never load a model from elsewhere.
    return pickle.loads(artifact)  # noqa: S301


_ESTIMATORS: dict[int, CalibratedClassifierCV] = {}


def estimator_for(version) -> CalibratedClassifierCV:
    """Return a stored model version's fitted model, unpickled once per process."""
    # A version's artifact never changes once stored, so its id is a safe key; scoring one
    # new lead would otherwise spend most of its time unpickling the trees.
    if version.pk not in _ESTIMATORS:
        _ESTIMATORS.clear()
        _ESTIMATORS[version.pk] = loads(bytes(version.artifact))
    return _ESTIMATORS[version.pk]


# -- prediction without scikit-learn's per-call machinery --------------------------------------


@dataclass(frozen=True)
class Compiled:
    """What prediction reads of a fitted model, taken out of scikit-learn's wrappers once.

    scikit-learn spends some 6 ms on every `predict_proba`, whatever its size: input
    validation, the boosted trees' ColumnTransformer and OrdinalEncoder, joblib dispatch,
    the calibration wrapper's label encoding. Scoring one new lead made two such calls
    (the probability and its explanation), a sixth of the lead's time. This keeps what
    those calls compute with (the encoders' learned categories, the trees, the calibrator's
    fitted numbers) and applies it directly; `raw` gives exactly the trees' decision function.
    """

    categorical: np.ndarray  # input columns the encoder takes, in the encoder's output order
    numerical: np.ndarray  # the other input columns, after those
    categories: tuple[np.ndarray, ...]  # per categorical column, its known values, sorted
    trees: tuple  # fitted TreePredictors
    known_bitsets: np.ndarray
    bitset_index: np.ndarray
    baseline: float  # the trees' starting raw value
    # The calibrator: ("isotonic", thresholds x, values y, clip) or ("sigmoid", a, b).
    calibration: tuple

    def raw(self, X: np.ndarray, *, threads: int = 1) -> np.ndarray:
        """Return the trees' raw prediction (log-odds) for each row of the feature matrix."""
        columns = [self._encoded(X[:, j], k) for k, j in enumerate(self.categorical)]
        encoded = np.column_stack([*columns, X[:, self.numerical]]).astype(np.float64, copy=False)
        encoded = np.ascontiguousarray(encoded)
        out = np.full(len(X), self.baseline)
        for tree in self.trees:
            out += tree.predict(encoded, self.known_bitsets, self.bitset_index, threads)
        return out

    def _encoded(self, values: np.ndarray, k: int) -> np.ndarray:
        # OrdinalEncoder's transform: a known value becomes its position, anything else
        # (missing, or a category training never saw) becomes NaN, which the trees send
        # where they send missing values.
        known = self.categories[k]
        position = np.minimum(np.searchsorted(known, values), max(len(known) - 1, 0))
        found = (known[position] == values) if len(known) else np.zeros(len(values), bool)
        return np.where(found, position, np.nan)

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        """Return the calibrated probability of raw predictions, as the calibration wrapper does."""
        if self.calibration[0] == "isotonic":
            _, x, y, clip = self.calibration
            if clip:
                raw = np.clip(raw, x[0], x[-1])
            probability = np.interp(raw, x, y) if len(x) > 1 else np.full(len(raw), y[0])
            if not clip:
                probability = np.where((raw < x[0]) | (raw > x[-1]), np.nan, probability)
        else:
            _, a, b = self.calibration
            probability = expit(-(a * raw + b))
        # As CalibratedClassifierCV: a value a rounding error over one is one.
        return np.where((probability > 1.0) & (probability <= 1.0 + 1e-5), 1.0, probability)


# Keyed by the fitted model itself, and gone with it.
_COMPILED: weakref.WeakKeyDictionary[CalibratedClassifierCV, Compiled | None] = weakref.WeakKeyDictionary()


def compiled(model: CalibratedClassifierCV) -> Compiled | None:
    """Return the model's prediction numbers, taken out once per fitted model (None: use scikit-learn)."""
    if model not in _COMPILED:
        _COMPILED[model] = _compile(model)
    return _COMPILED[model]


def _compile(model: CalibratedClassifierCV) -> Compiled | None:
    # Only the shape `train` fits: one frozen binary classifier with one calibrator. Anything
    # else (an older artifact, a cross-validated ensemble) keeps scikit-learn's own path.
    if len(model.calibrated_classifiers_) != 1 or len(model.classes_) != 2:
        return None
    pair = model.calibrated_classifiers_[0]
    base = _boosted(pair.estimator)
    if base is None or len(pair.calibrators) != 1 or base.n_trees_per_iteration_ != 1:
        return None
    calibrator = pair.calibrators[0]
    if isinstance(calibrator, IsotonicRegression):
        calibration = ("isotonic", np.asarray(calibrator.X_thresholds_, dtype=float),
                       np.asarray(calibrator.y_thresholds_, dtype=float), calibrator.out_of_bounds == "clip")
    elif isinstance(calibrator, _SigmoidCalibration):
        calibration = ("sigmoid", float(calibrator.a_), float(calibrator.b_))
    else:
        return None
    return Compiled(**_trees(base), calibration=calibration)


def _boosted(estimator) -> HistGradientBoostingClassifier | None:
    base = estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator
    return base if isinstance(base, HistGradientBoostingClassifier) else None


def _trees(base: HistGradientBoostingClassifier) -> dict:
    is_categorical = base.is_categorical_ if base.is_categorical_ is not None else np.zeros(base.n_features_in_, bool)
    if base._preprocessor is None:
        categorical, categories = np.zeros(0, np.intp), ()
    else:
        categorical = np.flatnonzero(is_categorical)
        encoder = base._preprocessor.named_transformers_["encoder"]
        # The encoder lists NaN last when training saw missing values; NaN is never "known".
        categories = tuple(np.asarray(c[~np.isnan(c)], dtype=float) for c in encoder.categories_)
    known_bitsets, bitset_index = base._bin_mapper.make_known_categories_bitsets()
    return {"categorical": categorical, "numerical": np.flatnonzero(~is_categorical), "categories": categories,
            "trees": tuple(p[0] for p in base._predictors), "known_bitsets": known_bitsets,
            "bitset_index": bitset_index, "baseline": float(base._baseline_prediction.ravel()[0])}


def predict(model: CalibratedClassifierCV, X: np.ndarray, *, threads: int = 1) -> np.ndarray:
    """Return the calibrated conversion probability of each row of the feature matrix."""
    fast = compiled(model)
    if fast is None:
        with threads_limited(threads):
            return model.predict_proba(X)[:, 1]
    return fast.calibrated(fast.raw(X, threads=threads))


def _uncalibrated(model: CalibratedClassifierCV, X: np.ndarray) -> np.ndarray:
    fast = compiled(model)
    if fast is not None:
        return expit(fast.raw(X))
    base = _boosted(model.estimator) or model.estimator
    with threads_limited(1):
        return base.predict_proba(X)[:, 1]


# -- explanations -------------------------------------------------------------------------

GROUPS = {
    "industry": ("industry",), "company size": ("size_band",), "region": ("region",),
    "seniority": ("seniority",), "lead source": ("channel", "segment"),
    "job title and email": ("title:", "domain:"),
    "engagement": ("count:", "days_since_last_touch", "rule_engagement"),
    "sales follow-up": ("reached_mql", "reached_sal", "accepted_by_sales", "rejected_by_sales"),
    "lead age": ("lead_age_days",),
}


def _group_columns(names: list[str]) -> dict[str, list[int]]:
    return _grouped(tuple(names))


@cache
def _grouped(names: tuple[str, ...]) -> dict[str, list[int]]:
    # Once per model's feature list: matching every name against every prefix was half the
    # time of explaining one new lead's score. Callers only read the result.
    groups = {}
    for group, prefixes in GROUPS.items():
        groups[group] = [j for j, name in enumerate(names)
                         if any(name == p or (p.endswith(":") and name.startswith(p)) for p in prefixes)]
    return {g: cols for g, cols in groups.items() if cols}


def contributions(model: CalibratedClassifierCV, X: np.ndarray, baseline: np.ndarray,
                  names: list[str]) -> tuple[list[str], np.ndarray]:
    """Measure each feature group's push on each row: p(row) − p(row with the group at baseline).

    Baseline substitution costs one prediction per group, which is fast enough to explain
    every score, unlike permutation or exact Shapley values. The row and its variants go
    through the model in one call: scikit-learn spends some 20 ms on each call whatever its
    size, which made ten calls most of the time of scoring one new lead. Uses the
    uncalibrated model, whose output moves smoothly; isotonic calibration is a step function.
    """
    groups = _group_columns(names)
    n = len(X)
    variants = np.repeat(X[np.newaxis], len(groups) + 1, axis=0)
    for g, cols in enumerate(groups.values(), start=1):
        variants[g][:, cols] = baseline[cols]
    scored = _uncalibrated(model, variants.reshape(-1, X.shape[1])).reshape(len(groups) + 1, n)
    deltas = (scored[0] - scored[1:]).T if groups else np.zeros((n, 0))
    return list(groups), deltas


def explain(model: CalibratedClassifierCV, X: np.ndarray, probability: np.ndarray, *, baseline: np.ndarray,
            names: list[str], threshold: float = 0.005) -> list[dict]:
    """Word each row's strongest pushes up (three) and down (two), with probability points.

    Returns one {"probability", "up", "down"} per row; each factor is {"factor", "points",
    "delta", "text"}, points being percentage points of probability.
    """
    groups, deltas = contributions(model, X, baseline, names)
    out = []
    for i in range(len(X)):
        order = np.argsort(-deltas[i], kind="stable")
        value = dict(zip(names, X[i].tolist(), strict=True))

        def item(j: int, row: int = i, value: dict = value) -> dict:
            points = round(100 * float(deltas[row, j]))
            sign = "+" if points >= 0 else "\u2212"
            text = describe_group(groups[j], value, names)
            return {"factor": groups[j], "points": points, "delta": round(float(deltas[row, j]), 4),
                    "text": f"{text} ({sign}{abs(points)} pts)"}

        out.append({
            "probability": round(float(probability[i]), 4),
            "up": [item(j) for j in order[:3] if deltas[i, j] >= threshold],
            "down": [item(j) for j in order[::-1][:2] if deltas[i, j] <= -threshold],
        })
    return out


def describe_group(group: str, value: dict[str, float], names: list[str]) -> str:
    """Word one feature group's values (feature name → value) for a rep, e.g. 'Came in through webinar'."""

    def label(vocabulary: tuple[str, ...], code: float) -> str:
        return "unknown" if code != code or code < 0 else vocabulary[int(code)]

    if group == "industry":
        return INDUSTRY_TEXT.get(label(INDUSTRIES, value["industry"]), "Industry unknown")
    if group == "company size":
        size = SIZE_TEXT.get(label(SIZE_BANDS, value["size_band"]))
        return f"{size} employees" if size else "Company size unknown"
    if group == "region":
        return f"Based in {REGION_TEXT.get(label(REGIONS, value['region']), 'an unknown region')}"
    if group == "seniority":
        return SENIORITY_TEXT.get(label(SENIORITIES, value["seniority"]), "Unknown seniority")
    if group == "lead source":
        return f"Came in through {label(CHANNELS, value['channel']).replace('_', ' ')}"
    if group == "job title and email":
        hits = [n.split(":", 1)[1] for n in names if n.startswith(("title:", "domain:")) and value[n]]
        return ", ".join(hits) if hits else "Job title and email domain"
    if group == "engagement":
        touched = {n.removeprefix("count:"): int(value[n]) for n in names if n.startswith("count:") and value[n]}
        if not touched:
            return "No engagement yet"
        kind, count = max(touched.items(), key=lambda item: item[1])
        one, many = EVENT_TEXT[kind]
        return one if count == 1 else many.format(n=count)
    if group == "sales follow-up":
        if value["rejected_by_sales"]:
            return "Rejected by sales"
        if value["accepted_by_sales"]:
            return "Accepted by sales"
        return "Marketing qualified" if value["reached_mql"] else "Not yet qualified"
    return f"Lead for {int(value['lead_age_days'])} days"
