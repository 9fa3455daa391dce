"""The estimators scikit-learn lists (``sklearn.utils.all_estimators()``), by release.

skops trusts every one of them by default, and finds them when it is imported by importing every
scikit-learn package: about a third of a second spent on each command that loads a model, for
hundreds of modules a model never needs. mlready gives skops this list instead while it imports
(see ``model_format._skops_io``), for the release it was taken from only; under any other release
skops lists them itself. The list is what that release answers, so skops trusts exactly what it
would (tests/test_model_format.py compares them). Regenerate it after upgrading scikit-learn with
``python -m mlready.sklearn_estimators``.
"""

# ruff: noqa: E501  (the generated list keeps one estimator a line)
from __future__ import annotations

__all__ = ["ESTIMATORS", "SKLEARN_VERSION", "listed"]

#: The scikit-learn release the list was taken from.
# fmt: off
SKLEARN_VERSION = "1.9.1"

#: (name, module) of each estimator, in the order all_estimators() gives them.
ESTIMATORS: tuple[tuple[str, str], ...] = (
    ("ARDRegression", "sklearn.linear_model._bayes"),
    ("AdaBoostClassifier", "sklearn.ensemble._weight_boosting"),
    ("AdaBoostRegressor", "sklearn.ensemble._weight_boosting"),
    ("AdditiveChi2Sampler", "sklearn.kernel_approximation"),
    ("AffinityPropagation", "sklearn.cluster._affinity_propagation"),
    ("AgglomerativeClustering", "sklearn.cluster._agglomerative"),
    ("BaggingClassifier", "sklearn.ensemble._bagging"),
    ("BaggingRegressor", "sklearn.ensemble._bagging"),
    ("BayesianGaussianMixture", "sklearn.mixture._bayesian_mixture"),
    ("BayesianRidge", "sklearn.linear_model._bayes"),
    ("BernoulliNB", "sklearn.naive_bayes"),
    ("BernoulliRBM", "sklearn.neural_network._rbm"),
    ("Binarizer", "sklearn.preprocessing._data"),
    ("Birch", "sklearn.cluster._birch"),
    ("BisectingKMeans", "sklearn.cluster._bisect_k_means"),
    ("CCA", "sklearn.cross_decomposition._pls"),
    ("CalibratedClassifierCV", "sklearn.calibration"),
    ("CategoricalNB", "sklearn.naive_bayes"),
    ("ClassicalMDS", "sklearn.manifold._classical_mds"),
    ("ClassifierChain", "sklearn.multioutput"),
    ("ColumnTransformer", "sklearn.compose._column_transformer"),
    ("ComplementNB", "sklearn.naive_bayes"),
    ("CountVectorizer", "sklearn.feature_extraction.text"),
    ("DBSCAN", "sklearn.cluster._dbscan"),
    ("DecisionTreeClassifier", "sklearn.tree._classes"),
    ("DecisionTreeRegressor", "sklearn.tree._classes"),
    ("DictVectorizer", "sklearn.feature_extraction._dict_vectorizer"),
    ("DictionaryLearning", "sklearn.decomposition._dict_learning"),
    ("DummyClassifier", "sklearn.dummy"),
    ("DummyRegressor", "sklearn.dummy"),
    ("ElasticNet", "sklearn.linear_model._coordinate_descent"),
    ("ElasticNetCV", "sklearn.linear_model._coordinate_descent"),
    ("EllipticEnvelope", "sklearn.covariance._elliptic_envelope"),
    ("EmpiricalCovariance", "sklearn.covariance._empirical_covariance"),
    ("ExtraTreeClassifier", "sklearn.tree._classes"),
    ("ExtraTreeRegressor", "sklearn.tree._classes"),
    ("ExtraTreesClassifier", "sklearn.ensemble._forest"),
    ("ExtraTreesRegressor", "sklearn.ensemble._forest"),
    ("FactorAnalysis", "sklearn.decomposition._factor_analysis"),
    ("FastICA", "sklearn.decomposition._fastica"),
    ("FeatureAgglomeration", "sklearn.cluster._agglomerative"),
    ("FeatureHasher", "sklearn.feature_extraction._hash"),
    ("FeatureUnion", "sklearn.pipeline"),
    ("FixedThresholdClassifier", "sklearn.model_selection._classification_threshold"),
    ("FrozenEstimator", "sklearn.frozen._frozen"),
    ("FunctionTransformer", "sklearn.preprocessing._function_transformer"),
    ("GammaRegressor", "sklearn.linear_model._glm.glm"),
    ("GaussianMixture", "sklearn.mixture._gaussian_mixture"),
    ("GaussianNB", "sklearn.naive_bayes"),
    ("GaussianProcessClassifier", "sklearn.gaussian_process._gpc"),
    ("GaussianProcessRegressor", "sklearn.gaussian_process._gpr"),
    ("GaussianRandomProjection", "sklearn.random_projection"),
    ("GenericUnivariateSelect", "sklearn.feature_selection._univariate_selection"),
    ("GradientBoostingClassifier", "sklearn.ensemble._gb"),
    ("GradientBoostingRegressor", "sklearn.ensemble._gb"),
    ("GraphicalLasso", "sklearn.covariance._graph_lasso"),
    ("GraphicalLassoCV", "sklearn.covariance._graph_lasso"),
    ("GridSearchCV", "sklearn.model_selection._search"),
    ("HDBSCAN", "sklearn.cluster._hdbscan.hdbscan"),
    ("HashingVectorizer", "sklearn.feature_extraction.text"),
    ("HistGradientBoostingClassifier", "sklearn.ensemble._hist_gradient_boosting.gradient_boosting"),
    ("HistGradientBoostingRegressor", "sklearn.ensemble._hist_gradient_boosting.gradient_boosting"),
    ("HuberRegressor", "sklearn.linear_model._huber"),
    ("IncrementalPCA", "sklearn.decomposition._incremental_pca"),
    ("IsolationForest", "sklearn.ensemble._iforest"),
    ("Isomap", "sklearn.manifold._isomap"),
    ("IsotonicRegression", "sklearn.isotonic"),
    ("KBinsDiscretizer", "sklearn.preprocessing._discretization"),
    ("KMeans", "sklearn.cluster._kmeans"),
    ("KNNImputer", "sklearn.impute._knn"),
    ("KNeighborsClassifier", "sklearn.neighbors._classification"),
    ("KNeighborsRegressor", "sklearn.neighbors._regression"),
    ("KNeighborsTransformer", "sklearn.neighbors._graph"),
    ("KernelCenterer", "sklearn.preprocessing._data"),
    ("KernelDensity", "sklearn.neighbors._kde"),
    ("KernelPCA", "sklearn.decomposition._kernel_pca"),
    ("KernelRidge", "sklearn.kernel_ridge"),
    ("LabelBinarizer", "sklearn.preprocessing._label"),
    ("LabelEncoder", "sklearn.preprocessing._label"),
    ("LabelPropagation", "sklearn.semi_supervised._label_propagation"),
    ("LabelSpreading", "sklearn.semi_supervised._label_propagation"),
    ("Lars", "sklearn.linear_model._least_angle"),
    ("LarsCV", "sklearn.linear_model._least_angle"),
    ("Lasso", "sklearn.linear_model._coordinate_descent"),
    ("LassoCV", "sklearn.linear_model._coordinate_descent"),
    ("LassoLars", "sklearn.linear_model._least_angle"),
    ("LassoLarsCV", "sklearn.linear_model._least_angle"),
    ("LassoLarsIC", "sklearn.linear_model._least_angle"),
    ("LatentDirichletAllocation", "sklearn.decomposition._lda"),
    ("LedoitWolf", "sklearn.covariance._shrunk_covariance"),
    ("LinearDiscriminantAnalysis", "sklearn.discriminant_analysis"),
    ("LinearRegression", "sklearn.linear_model._base"),
    ("LinearSVC", "sklearn.svm._classes"),
    ("LinearSVR", "sklearn.svm._classes"),
    ("LocalOutlierFactor", "sklearn.neighbors._lof"),
    ("LocallyLinearEmbedding", "sklearn.manifold._locally_linear"),
    ("LogisticRegression", "sklearn.linear_model._logistic"),
    ("LogisticRegressionCV", "sklearn.linear_model._logistic"),
    ("MDS", "sklearn.manifold._mds"),
    ("MLPClassifier", "sklearn.neural_network._multilayer_perceptron"),
    ("MLPRegressor", "sklearn.neural_network._multilayer_perceptron"),
    ("MaxAbsScaler", "sklearn.preprocessing._data"),
    ("MeanShift", "sklearn.cluster._mean_shift"),
    ("MinCovDet", "sklearn.covariance._robust_covariance"),
    ("MinMaxScaler", "sklearn.preprocessing._data"),
    ("MiniBatchDictionaryLearning", "sklearn.decomposition._dict_learning"),
    ("MiniBatchKMeans", "sklearn.cluster._kmeans"),
    ("MiniBatchNMF", "sklearn.decomposition._nmf"),
    ("MiniBatchSparsePCA", "sklearn.decomposition._sparse_pca"),
    ("MissingIndicator", "sklearn.impute._base"),
    ("MultiLabelBinarizer", "sklearn.preprocessing._label"),
    ("MultiOutputClassifier", "sklearn.multioutput"),
    ("MultiOutputRegressor", "sklearn.multioutput"),
    ("MultiTaskElasticNet", "sklearn.linear_model._coordinate_descent"),
    ("MultiTaskElasticNetCV", "sklearn.linear_model._coordinate_descent"),
    ("MultiTaskLasso", "sklearn.linear_model._coordinate_descent"),
    ("MultiTaskLassoCV", "sklearn.linear_model._coordinate_descent"),
    ("MultinomialNB", "sklearn.naive_bayes"),
    ("NMF", "sklearn.decomposition._nmf"),
    ("NearestCentroid", "sklearn.neighbors._nearest_centroid"),
    ("NearestNeighbors", "sklearn.neighbors._unsupervised"),
    ("NeighborhoodComponentsAnalysis", "sklearn.neighbors._nca"),
    ("Normalizer", "sklearn.preprocessing._data"),
    ("NuSVC", "sklearn.svm._classes"),
    ("NuSVR", "sklearn.svm._classes"),
    ("Nystroem", "sklearn.kernel_approximation"),
    ("OAS", "sklearn.covariance._shrunk_covariance"),
    ("OPTICS", "sklearn.cluster._optics"),
    ("OneClassSVM", "sklearn.svm._classes"),
    ("OneHotEncoder", "sklearn.preprocessing._encoders"),
    ("OneVsOneClassifier", "sklearn.multiclass"),
    ("OneVsRestClassifier", "sklearn.multiclass"),
    ("OrdinalEncoder", "sklearn.preprocessing._encoders"),
    ("OrthogonalMatchingPursuit", "sklearn.linear_model._omp"),
    ("OrthogonalMatchingPursuitCV", "sklearn.linear_model._omp"),
    ("OutputCodeClassifier", "sklearn.multiclass"),
    ("PCA", "sklearn.decomposition._pca"),
    ("PLSCanonical", "sklearn.cross_decomposition._pls"),
    ("PLSRegression", "sklearn.cross_decomposition._pls"),
    ("PLSSVD", "sklearn.cross_decomposition._pls"),
    ("PassiveAggressiveClassifier", "sklearn.linear_model._passive_aggressive"),
    ("PassiveAggressiveRegressor", "sklearn.linear_model._passive_aggressive"),
    ("PatchExtractor", "sklearn.feature_extraction.image"),
    ("Perceptron", "sklearn.linear_model._perceptron"),
    ("Pipeline", "sklearn.pipeline"),
    ("PoissonRegressor", "sklearn.linear_model._glm.glm"),
    ("PolynomialCountSketch", "sklearn.kernel_approximation"),
    ("PolynomialFeatures", "sklearn.preprocessing._polynomial"),
    ("PowerTransformer", "sklearn.preprocessing._data"),
    ("QuadraticDiscriminantAnalysis", "sklearn.discriminant_analysis"),
    ("QuantileRegressor", "sklearn.linear_model._quantile"),
    ("QuantileTransformer", "sklearn.preprocessing._data"),
    ("RANSACRegressor", "sklearn.linear_model._ransac"),
    ("RBFSampler", "sklearn.kernel_approximation"),
    ("RFE", "sklearn.feature_selection._rfe"),
    ("RFECV", "sklearn.feature_selection._rfe"),
    ("RadiusNeighborsClassifier", "sklearn.neighbors._classification"),
    ("RadiusNeighborsRegressor", "sklearn.neighbors._regression"),
    ("RadiusNeighborsTransformer", "sklearn.neighbors._graph"),
    ("RandomForestClassifier", "sklearn.ensemble._forest"),
    ("RandomForestRegressor", "sklearn.ensemble._forest"),
    ("RandomTreesEmbedding", "sklearn.ensemble._forest"),
    ("RandomizedSearchCV", "sklearn.model_selection._search"),
    ("RegressorChain", "sklearn.multioutput"),
    ("Ridge", "sklearn.linear_model._ridge"),
    ("RidgeCV", "sklearn.linear_model._ridge"),
    ("RidgeClassifier", "sklearn.linear_model._ridge"),
    ("RidgeClassifierCV", "sklearn.linear_model._ridge"),
    ("RobustScaler", "sklearn.preprocessing._data"),
    ("SGDClassifier", "sklearn.linear_model._stochastic_gradient"),
    ("SGDOneClassSVM", "sklearn.linear_model._stochastic_gradient"),
    ("SGDRegressor", "sklearn.linear_model._stochastic_gradient"),
    ("SVC", "sklearn.svm._classes"),
    ("SVR", "sklearn.svm._classes"),
    ("SelectFdr", "sklearn.feature_selection._univariate_selection"),
    ("SelectFpr", "sklearn.feature_selection._univariate_selection"),
    ("SelectFromModel", "sklearn.feature_selection._from_model"),
    ("SelectFwe", "sklearn.feature_selection._univariate_selection"),
    ("SelectKBest", "sklearn.feature_selection._univariate_selection"),
    ("SelectPercentile", "sklearn.feature_selection._univariate_selection"),
    ("SelfTrainingClassifier", "sklearn.semi_supervised._self_training"),
    ("SequentialFeatureSelector", "sklearn.feature_selection._sequential"),
    ("ShrunkCovariance", "sklearn.covariance._shrunk_covariance"),
    ("SimpleImputer", "sklearn.impute._base"),
    ("SkewedChi2Sampler", "sklearn.kernel_approximation"),
    ("SparseCoder", "sklearn.decomposition._dict_learning"),
    ("SparsePCA", "sklearn.decomposition._sparse_pca"),
    ("SparseRandomProjection", "sklearn.random_projection"),
    ("SpectralBiclustering", "sklearn.cluster._bicluster"),
    ("SpectralClustering", "sklearn.cluster._spectral"),
    ("SpectralCoclustering", "sklearn.cluster._bicluster"),
    ("SpectralEmbedding", "sklearn.manifold._spectral_embedding"),
    ("SplineTransformer", "sklearn.preprocessing._polynomial"),
    ("StackingClassifier", "sklearn.ensemble._stacking"),
    ("StackingRegressor", "sklearn.ensemble._stacking"),
    ("StandardScaler", "sklearn.preprocessing._data"),
    ("TSNE", "sklearn.manifold._t_sne"),
    ("TargetEncoder", "sklearn.preprocessing._target_encoder"),
    ("TfidfTransformer", "sklearn.feature_extraction.text"),
    ("TfidfVectorizer", "sklearn.feature_extraction.text"),
    ("TheilSenRegressor", "sklearn.linear_model._theil_sen"),
    ("TransformedTargetRegressor", "sklearn.compose._target"),
    ("TruncatedSVD", "sklearn.decomposition._truncated_svd"),
    ("TunedThresholdClassifierCV", "sklearn.model_selection._classification_threshold"),
    ("TweedieRegressor", "sklearn.linear_model._glm.glm"),
    ("VarianceThreshold", "sklearn.feature_selection._variance_threshold"),
    ("VotingClassifier", "sklearn.ensemble._voting"),
    ("VotingRegressor", "sklearn.ensemble._voting"),
)
# fmt: on


def listed() -> list[tuple[str, type]] | None:
    """``all_estimators()`` as skops reads it (each name with a class of that name and module),
    without importing scikit-learn's packages; None under another release than the list's."""
    from sklearn import __version__

    if __version__ != SKLEARN_VERSION:
        return None
    return [(name, type(name, (), {"__module__": module})) for name, module in ESTIMATORS]


def current() -> tuple[str, tuple[tuple[str, str], ...]]:
    """The installed scikit-learn's release and its all_estimators() as (name, module) pairs
    (this imports every scikit-learn package)."""
    from sklearn import __version__
    from sklearn.utils import all_estimators

    return __version__, tuple((name, cls.__module__) for name, cls in all_estimators())


def _rewrite() -> None:  # pragma: no cover - run by hand after upgrading scikit-learn
    """Rewrite this file's release and list for the installed scikit-learn."""
    from pathlib import Path

    version, estimators = current()
    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    start = text.index("SKLEARN_VERSION = ")
    end = text.index(")\n", text.index("ESTIMATORS: tuple")) + 2
    body = "".join(f'    ("{name}", "{module}"),\n' for name, module in estimators)
    middle = (
        f'SKLEARN_VERSION = "{version}"\n\n'
        "#: (name, module) of each estimator, in the order all_estimators() gives them.\n"
        f"ESTIMATORS: tuple[tuple[str, str], ...] = (\n{body})\n"
    )
    path.write_text(text[:start] + middle + text[end:], encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    _rewrite()
