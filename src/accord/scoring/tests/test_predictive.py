"""The predictive model on synthetic arrays: snapshots, leakage guard, calibration, fallback."""

import numpy as np
import pytest

from accord.scoring import predictive
from accord.scoring.domain import EVENT_KINDS, LeadColumns
from accord.scoring.rules import parse_rules
from accord.scoring.services import DEFAULT_RULES

DAY = 86_400
NEVER = np.iinfo(np.int64).max
START = 1_700_000_000


@pytest.fixture(scope="module")
def rules():
    return parse_rules(DEFAULT_RULES.read_text(encoding="utf-8"))


def synthetic_history(n=2_500, seed=0):
    """Leads over a year whose conversion follows seniority and webinar attendance."""
    rng = np.random.default_rng(seed)
    seniority = rng.integers(0, 6, n)
    created = START + np.sort(rng.integers(0, 365 * DAY, n))
    attends = rng.random(n) < 0.3
    logit = -3.5 + 0.6 * (seniority <= 2) + 1.5 * attends
    converts = rng.random(n) < 1 / (1 + np.exp(-logit))
    sql_at = np.where(converts, created + rng.integers(20, 60, n) * DAY, NEVER)
    webinar = np.flatnonzero(attends)
    # After converting, people come back to the site a lot: a leak if counted before the snapshot.
    after = np.flatnonzero(converts)
    event_row = np.concatenate([webinar, np.repeat(after, 5)])
    event_kind = np.concatenate([np.full(len(webinar), EVENT_KINDS.index("webinar_attend")),
                                 np.full(len(after) * 5, EVENT_KINDS.index("page_view"))])
    event_s = np.concatenate([created[webinar] + 3600, np.repeat(sql_at[after], 5) + DAY])
    rejected = ~converts & (rng.random(n) < 0.2)
    return predictive.History(
        leads=LeadColumns(np.arange(1, n + 1), rng.integers(0, 12, n), rng.integers(0, 6, n),
                          rng.integers(0, 4, n), seniority, np.zeros(n, np.int64), np.zeros(n, np.int64)),
        created_s=created, channel=rng.integers(0, 13, n), segment=np.zeros(n, np.int64),
        event_row=event_row, event_kind=event_kind, event_s=event_s,
        first_mql_s=np.full(n, NEVER), first_sal_s=np.full(n, NEVER), first_sql_s=sql_at,
        first_accept_s=np.full(n, NEVER),
        first_reject_s=np.where(rejected, created + 10 * DAY, NEVER),
    )


def test_events_after_the_snapshot_never_reach_the_features(rules):
    history = synthetic_history(n=300)
    config = predictive.Config(snapshot_ages_days=(1,))
    as_of = START + 500 * DAY
    before = predictive.training_set(history, rules, config, as_of_s=as_of)

    # Given many more touches, all after every snapshot…
    later = np.arange(300)
    history.event_row = np.concatenate([history.event_row, later])
    history.event_kind = np.concatenate([history.event_kind, np.full(300, EVENT_KINDS.index("demo_request"))])
    history.event_s = np.concatenate([history.event_s, history.created_s + 2 * DAY])
    after = predictive.training_set(history, rules, config, as_of_s=as_of)

    # …the training features do not change.
    np.testing.assert_array_equal(before.X, after.X)


def test_no_feature_carries_the_outcome(rules):
    names = predictive.feature_names(rules)

    assert not [n for n in names if any(word in n for word in ("sql", "opportunity", "customer", "stage", "won", "deal"))]


def test_labels_count_sql_within_the_horizon_and_skip_unfinished_windows(rules):
    history = synthetic_history(n=1_000)
    config = predictive.Config(snapshot_ages_days=(1,), horizon_days=90)
    as_of = START + 200 * DAY

    data = predictive.training_set(history, rules, config, as_of_s=as_of)

    assert (data.snapshot_s + 90 * DAY <= as_of).all()
    expected = history.first_sql_s[data.lead] <= data.snapshot_s + 90 * DAY
    assert data.y.tolist() == expected.astype(int).tolist()


def test_a_rejected_lead_is_a_negative_with_extra_weight(rules):
    history = synthetic_history(n=1_000)
    data = predictive.training_set(history, rules, predictive.Config(snapshot_ages_days=(1,)),
                                   as_of_s=START + 600 * DAY)
    rejected = history.first_reject_s[data.lead] < NEVER

    assert set(data.weight[rejected & (data.y == 0)].tolist()) == {2.0}
    assert set(data.weight[~rejected].tolist()) == {1.0}


def test_the_model_is_calibrated_and_beats_rules_on_the_later_window(rules):
    history = synthetic_history()
    config = predictive.Config(snapshot_ages_days=(1,), max_iter=60)
    data = predictive.training_set(history, rules, config, as_of_s=START + 600 * DAY)

    trained = predictive.train(data, config)

    card = trained.card
    assert card["eval_start"] > card["train_end"]
    assert abs(card["calibration"]["predicted_mean"] - card["calibration"]["observed_rate"]) < 0.03
    assert card["roc_auc"] > 0.6
    assert len(card["lift_by_decile"]) == 10


def test_too_little_history_says_the_model_is_unavailable(rules):
    history = synthetic_history(n=150)
    data = predictive.training_set(history, rules, predictive.Config(), as_of_s=START + 600 * DAY)

    with pytest.raises(predictive.NotEnoughHistory, match=r"predictive model unavailable: .* labelled leads"):
        predictive.train(data, predictive.Config())


def test_a_window_with_only_a_few_conversions_says_the_model_is_unavailable(rules):
    config = predictive.Config(snapshot_ages_days=(1,))
    data = predictive.training_set(synthetic_history(), rules, config, as_of_s=START + 600 * DAY)
    # Given enough converted leads overall, but only three in the evaluation window…
    late = data.snapshot_s >= np.quantile(data.snapshot_s, 1 - config.eval_fraction)
    converted_late = np.flatnonzero(late & (data.y == 1))
    data.y[converted_late[3:]] = 0

    # …the model refuses to be judged on them.
    with pytest.raises(predictive.NotEnoughHistory,
                       match=r"the evaluation window has [\d,]+ snapshots, 3 of them converted"):
        predictive.train(data, config)


def test_each_feature_group_gets_a_contribution_and_words(rules):
    history = synthetic_history()
    config = predictive.Config(snapshot_ages_days=(1,), max_iter=30)
    data = predictive.training_set(history, rules, config, as_of_s=START + 600 * DAY)
    trained = predictive.train(data, config)

    groups, deltas = predictive.contributions(trained.model, data.X[:5], trained.baseline, data.names)

    assert "seniority" in groups and "engagement" in groups
    assert deltas.shape == (5, len(groups))
    attended = int(np.flatnonzero(data.X[:, data.names.index("count:webinar_attend")] == 1)[0])
    row = dict(zip(data.names, data.X[attended].tolist(), strict=True))
    assert predictive.describe_group("engagement", row, data.names) == "Attended a webinar"


def test_each_explained_row_names_its_strongest_pushes_in_words_with_probability_points(rules):
    history = synthetic_history()
    config = predictive.Config(snapshot_ages_days=(1,), max_iter=30)
    data = predictive.training_set(history, rules, config, as_of_s=START + 600 * DAY)
    trained = predictive.train(data, config)
    probability = predictive.predict(trained.model, data.X[:20])

    explained = predictive.explain(trained.model, data.X[:20], probability, baseline=trained.baseline,
                                   names=data.names)

    assert [row["probability"] for row in explained] == [round(float(p), 4) for p in probability]
    for row in explained:
        assert len(row["up"]) <= 3 and len(row["down"]) <= 2
        assert all(item["points"] >= 0 and item["text"].endswith(f"(+{item['points']} pts)") for item in row["up"])
        assert all(item["delta"] < 0 for item in row["down"])
        assert [item["delta"] for item in row["up"]] == sorted((item["delta"] for item in row["up"]), reverse=True)


def history_with_wins(n=400):
    """The synthetic history, where a lead wins a deal 30 days after it reached SQL, if it did."""
    history = synthetic_history(n=n)
    history.first_won_s = np.where(history.first_sql_s < NEVER, history.first_sql_s + 30 * DAY, NEVER)
    history.first_opportunity_s = history.first_won_s.copy()
    return history


def test_a_won_label_counts_a_win_up_to_the_horizon_and_not_one_day_later(rules):
    history = history_with_wins()
    config = predictive.Config(outcome="won", snapshot_ages_days=(1,), horizon_days=60)
    snapshot = history.created_s + DAY
    # Given one lead that wins exactly at snapshot + 60 days and one that wins a day after that…
    history.first_won_s[0] = snapshot[0] + 60 * DAY
    history.first_won_s[1] = snapshot[1] + 61 * DAY

    data = predictive.training_set(history, rules, config, as_of_s=START + 600 * DAY)

    # …the first is a positive and the second a negative: nothing past snapshot + N is read.
    label = dict(zip(data.lead.tolist(), data.y.tolist(), strict=True))
    assert (label[0], label[1]) == (1, 0)
    expected = history.first_won_s[data.lead] <= data.snapshot_s + 60 * DAY
    assert data.y.tolist() == expected.astype(int).tolist()


def test_outcomes_after_the_horizon_change_no_label_and_outcomes_change_no_feature(rules):
    history = history_with_wins()
    config = predictive.Config(outcome="won", snapshot_ages_days=(1, 14), horizon_days=45)
    as_of = START + 600 * DAY
    before = predictive.training_set(history, rules, config, as_of_s=as_of)

    # Given every lead that had not won within its horizons also wins, later…
    never = history.first_won_s == NEVER
    history.first_won_s[never] = history.created_s[never] + (14 + 45 + 1) * DAY
    after = predictive.training_set(history, rules, config, as_of_s=as_of)

    # …the labels and the features are exactly as before.
    assert after.y.tolist() == before.y.tolist()
    np.testing.assert_array_equal(before.X, after.X)


def test_a_lead_past_sql_is_still_a_training_row_when_the_outcome_is_a_won_deal(rules):
    history = history_with_wins()
    snapshots = history.created_s + 45 * DAY
    past_sql = (history.first_sql_s <= snapshots) & (history.first_won_s > snapshots)

    sql = predictive.training_set(history, rules, predictive.Config(snapshot_ages_days=(45,)),
                                  as_of_s=START + 600 * DAY)
    won = predictive.training_set(history, rules, predictive.Config(outcome="won", snapshot_ages_days=(45,)),
                                  as_of_s=START + 600 * DAY)

    assert past_sql.any()
    assert set(np.flatnonzero(past_sql).tolist()) & set(sql.lead.tolist()) == set()
    assert set(np.flatnonzero(past_sql).tolist()) <= set(won.lead.tolist())


@pytest.mark.parametrize(("outcome", "horizon", "message"), [
    ("churned", 90, "outcome: unknown outcome 'churned'; use one of sql, opportunity, won"),
    ("won", 0, "horizon_days: must be between 1 and 730, not 0"),
])
def test_an_unknown_outcome_or_a_horizon_out_of_range_is_refused_naming_the_field(outcome, horizon, message):
    with pytest.raises(ValueError) as error:
        predictive.Config(outcome=outcome, horizon_days=horizon)

    assert str(error.value) == message


def varied_rows(data, *, anywhere=False, seed=3):
    """The training rows with a tenth of the values missing and categories training never saw.

    As features come: missing only where a value can be (the categories, the last touch),
    unseen categories from the vocabularies; `anywhere` also blanks counts and puts codes and
    numbers outside every vocabulary and range, which the trees must handle all the same.
    """
    rng = np.random.default_rng(seed)
    X = data.X.copy()
    names = data.names
    can_miss = [names.index(n) for n in (*predictive.CATEGORICAL, "days_since_last_touch")]
    blank = rng.random(X.shape) < 0.1
    if not anywhere:
        blank[:, [j for j in range(X.shape[1]) if j not in can_miss]] = False
    X[blank] = np.nan
    X[:40, names.index("seniority")] = 6  # "consumer": a known word the synthetic history never used
    if anywhere:
        X[40:80, names.index("industry")] = 250
        X[80:120, names.index("channel")] = -1
        X[120:160, names.index("lead_age_days")] = 10_000
    return X


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_the_direct_prediction_equals_scikit_learns_on_varied_rows(rules, method):
    # Given a model trained as usual, and rows with missing values and unseen categories
    config = predictive.Config(snapshot_ages_days=(1, 14), max_iter=40, method=method)
    data = predictive.training_set(synthetic_history(), rules, config, as_of_s=START + 600 * DAY)
    trained = predictive.train(data, config)
    X = varied_rows(data, anywhere=True)

    # When each row is predicted on its own and all at once by the direct path
    one_by_one = np.array([predictive.predict(trained.model, X[i:i + 1])[0] for i in range(300)])
    at_once = predictive.predict(trained.model, X)

    # Then it took the direct path, and gives scikit-learn's own probabilities
    assert predictive.compiled(trained.model) is not None
    expected = trained.model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(at_once, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(one_by_one, expected[:300], rtol=0, atol=1e-12)
    assert len(np.unique(np.round(expected, 6))) > 20  # the rows really differ


def test_the_direct_explanation_names_the_same_factors_as_scikit_learns(rules):
    config = predictive.Config(snapshot_ages_days=(1,), max_iter=30)
    data = predictive.training_set(synthetic_history(), rules, config, as_of_s=START + 600 * DAY)
    trained = predictive.train(data, config)
    X = varied_rows(data)[:150]
    probability = trained.model.predict_proba(X)[:, 1]

    explained = predictive.explain(trained.model, X, probability, baseline=trained.baseline, names=data.names)

    # Given the explanation the trees' own predict_proba gives (scikit-learn's path)…
    base = trained.model.estimator.estimator
    groups = predictive._group_columns(data.names)
    variants = np.repeat(X[np.newaxis], len(groups) + 1, axis=0)
    for g, cols in enumerate(groups.values(), start=1):
        variants[g][:, cols] = trained.baseline[cols]
    scored = base.predict_proba(variants.reshape(-1, X.shape[1]))[:, 1].reshape(len(groups) + 1, len(X))
    _, deltas = predictive.contributions(trained.model, X, trained.baseline, data.names)
    # …the direct path's pushes are the same numbers, so the same factors in the same words.
    np.testing.assert_allclose(deltas, (scored[0] - scored[1:]).T, rtol=0, atol=1e-12)
    assert sum(len(row["up"]) + len(row["down"]) for row in explained) > 100


def test_a_model_of_another_shape_keeps_scikit_learns_path(rules):
    config = predictive.Config(snapshot_ages_days=(1,), max_iter=20)
    data = predictive.training_set(synthetic_history(), rules, config, as_of_s=START + 600 * DAY)
    trained = predictive.train(data, config)
    # Given a calibration of five cross-validated classifiers (not what `train` fits)
    from sklearn.calibration import CalibratedClassifierCV
    ensemble = CalibratedClassifierCV(trained.model.estimator.estimator.__class__(max_iter=5), cv=2)
    ensemble.fit(np.nan_to_num(data.X[:400]), data.y[:400])

    assert predictive.compiled(ensemble) is None
    X = np.nan_to_num(data.X[:10])
    np.testing.assert_array_equal(predictive.predict(ensemble, X), ensemble.predict_proba(X)[:, 1])
