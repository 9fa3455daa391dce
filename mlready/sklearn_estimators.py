"""What skops trusts by default, as its releases and their dependencies' answer it.

skops trusts every estimator scikit-learn lists (``sklearn.utils.all_estimators()``), and finds
them when it is imported by importing every scikit-learn package: about a third of a second spent
on each command that loads a model, for hundreds of modules a model never needs. It also trusts
every public ufunc of numpy and ``scipy.special``, and names each by searching every loaded module
for it (a getattr per module and ufunc: 0.2-0.3 s more once pandas and scikit-learn are loaded).
mlready gives skops both lists instead while it imports (see ``model_format._skops_io``), each for
the releases it was taken from only; under any other release skops computes it itself. The lists
are what those releases answer, so skops trusts exactly what it would (tests/test_model_format.py
compares them with a fresh skops import). Regenerate them after upgrading scikit-learn, skops,
numpy or scipy with ``python -m mlready.sklearn_estimators``.
"""

# ruff: noqa: E501  (the generated list keeps one estimator a line)
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "ESTIMATORS",
    "PUBLIC_TYPE_NAMES",
    "SKLEARN_VERSION",
    "TYPE_NAME_RELEASES",
    "listed",
    "type_names",
]

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

#: The releases the type names below were taken under (skops, numpy, scipy).
TYPE_NAME_RELEASES: dict[str, str] = {"skops": "0.16.0", "numpy": "2.4.6", "scipy": "1.17.1"}

#: What skops' ``get_public_type_names(module, oftype)`` answers while it imports, by
#: ``"module:oftype"``; a call not listed here is computed by skops.
PUBLIC_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "numpy:numpy.ufunc": (
        "numpy.absolute",
        "numpy.add",
        "numpy.arccos",
        "numpy.arccosh",
        "numpy.arcsin",
        "numpy.arcsinh",
        "numpy.arctan",
        "numpy.arctan2",
        "numpy.arctanh",
        "numpy.bitwise_and",
        "numpy.bitwise_count",
        "numpy.bitwise_or",
        "numpy.bitwise_xor",
        "numpy.cbrt",
        "numpy.ceil",
        "numpy.conjugate",
        "numpy.copysign",
        "numpy.cos",
        "numpy.cosh",
        "numpy.deg2rad",
        "numpy.degrees",
        "numpy.divide",
        "numpy.divmod",
        "numpy.equal",
        "numpy.exp",
        "numpy.exp2",
        "numpy.expm1",
        "numpy.fabs",
        "numpy.float_power",
        "numpy.floor",
        "numpy.floor_divide",
        "numpy.fmax",
        "numpy.fmin",
        "numpy.fmod",
        "numpy.frexp",
        "numpy.gcd",
        "numpy.greater",
        "numpy.greater_equal",
        "numpy.heaviside",
        "numpy.hypot",
        "numpy.invert",
        "numpy.isfinite",
        "numpy.isinf",
        "numpy.isnan",
        "numpy.isnat",
        "numpy.lcm",
        "numpy.ldexp",
        "numpy.left_shift",
        "numpy.less",
        "numpy.less_equal",
        "numpy.log",
        "numpy.log10",
        "numpy.log1p",
        "numpy.log2",
        "numpy.logaddexp",
        "numpy.logaddexp2",
        "numpy.logical_and",
        "numpy.logical_not",
        "numpy.logical_or",
        "numpy.logical_xor",
        "numpy.matmul",
        "numpy.matvec",
        "numpy.maximum",
        "numpy.minimum",
        "numpy.modf",
        "numpy.multiply",
        "numpy.negative",
        "numpy.nextafter",
        "numpy.not_equal",
        "numpy.positive",
        "numpy.power",
        "numpy.rad2deg",
        "numpy.radians",
        "numpy.reciprocal",
        "numpy.remainder",
        "numpy.right_shift",
        "numpy.rint",
        "numpy.sign",
        "numpy.signbit",
        "numpy.sin",
        "numpy.sinh",
        "numpy.spacing",
        "numpy.sqrt",
        "numpy.square",
        "numpy.subtract",
        "numpy.tan",
        "numpy.tanh",
        "numpy.trunc",
        "numpy.vecdot",
        "numpy.vecmat",
    ),
    "scipy.special:numpy.ufunc": (
        "scipy.special._special_ufuncs.airy",
        "scipy.special._special_ufuncs.airye",
        "scipy.special._special_ufuncs.bei",
        "scipy.special._special_ufuncs.beip",
        "scipy.special._special_ufuncs.ber",
        "scipy.special._special_ufuncs.berp",
        "scipy.special._special_ufuncs.besselpoly",
        "scipy.special._special_ufuncs.beta",
        "scipy.special._special_ufuncs.betaln",
        "scipy.special._special_ufuncs.binom",
        "scipy.special._special_ufuncs.cbrt",
        "scipy.special._special_ufuncs.cosdg",
        "scipy.special._special_ufuncs.cosm1",
        "scipy.special._special_ufuncs.cotdg",
        "scipy.special._special_ufuncs.dawsn",
        "scipy.special._special_ufuncs.ellipe",
        "scipy.special._special_ufuncs.ellipeinc",
        "scipy.special._special_ufuncs.ellipj",
        "scipy.special._special_ufuncs.ellipk",
        "scipy.special._special_ufuncs.ellipkinc",
        "scipy.special._special_ufuncs.ellipkm1",
        "scipy.special._special_ufuncs.erf",
        "scipy.special._special_ufuncs.erfc",
        "scipy.special._special_ufuncs.erfcx",
        "scipy.special._special_ufuncs.erfi",
        "scipy.special._special_ufuncs.exp1",
        "scipy.special._special_ufuncs.exp10",
        "scipy.special._special_ufuncs.exp2",
        "scipy.special._special_ufuncs.expi",
        "scipy.special._special_ufuncs.expit",
        "scipy.special._special_ufuncs.expm1",
        "scipy.special._special_ufuncs.exprel",
        "scipy.special._special_ufuncs.fresnel",
        "scipy.special._special_ufuncs.gamma",
        "scipy.special._special_ufuncs.gammainc",
        "scipy.special._special_ufuncs.gammaincc",
        "scipy.special._special_ufuncs.gammainccinv",
        "scipy.special._special_ufuncs.gammaincinv",
        "scipy.special._special_ufuncs.gammaln",
        "scipy.special._special_ufuncs.gammasgn",
        "scipy.special._special_ufuncs.hankel1",
        "scipy.special._special_ufuncs.hankel1e",
        "scipy.special._special_ufuncs.hankel2",
        "scipy.special._special_ufuncs.hankel2e",
        "scipy.special._special_ufuncs.hyp2f1",
        "scipy.special._special_ufuncs.i0",
        "scipy.special._special_ufuncs.i0e",
        "scipy.special._special_ufuncs.i1",
        "scipy.special._special_ufuncs.i1e",
        "scipy.special._special_ufuncs.it2i0k0",
        "scipy.special._special_ufuncs.it2j0y0",
        "scipy.special._special_ufuncs.it2struve0",
        "scipy.special._special_ufuncs.itairy",
        "scipy.special._special_ufuncs.iti0k0",
        "scipy.special._special_ufuncs.itj0y0",
        "scipy.special._special_ufuncs.itmodstruve0",
        "scipy.special._special_ufuncs.itstruve0",
        "scipy.special._special_ufuncs.iv",
        "scipy.special._special_ufuncs.ive",
        "scipy.special._special_ufuncs.j0",
        "scipy.special._special_ufuncs.j1",
        "scipy.special._special_ufuncs.jv",
        "scipy.special._special_ufuncs.jve",
        "scipy.special._special_ufuncs.k0",
        "scipy.special._special_ufuncs.k0e",
        "scipy.special._special_ufuncs.k1",
        "scipy.special._special_ufuncs.k1e",
        "scipy.special._special_ufuncs.kei",
        "scipy.special._special_ufuncs.keip",
        "scipy.special._special_ufuncs.kelvin",
        "scipy.special._special_ufuncs.ker",
        "scipy.special._special_ufuncs.kerp",
        "scipy.special._special_ufuncs.kv",
        "scipy.special._special_ufuncs.kve",
        "scipy.special._special_ufuncs.log1p",
        "scipy.special._special_ufuncs.log_expit",
        "scipy.special._special_ufuncs.log_ndtr",
        "scipy.special._special_ufuncs.log_wright_bessel",
        "scipy.special._special_ufuncs.loggamma",
        "scipy.special._special_ufuncs.logit",
        "scipy.special._special_ufuncs.mathieu_a",
        "scipy.special._special_ufuncs.mathieu_b",
        "scipy.special._special_ufuncs.mathieu_cem",
        "scipy.special._special_ufuncs.mathieu_modcem1",
        "scipy.special._special_ufuncs.mathieu_modcem2",
        "scipy.special._special_ufuncs.mathieu_modsem1",
        "scipy.special._special_ufuncs.mathieu_modsem2",
        "scipy.special._special_ufuncs.mathieu_sem",
        "scipy.special._special_ufuncs.modfresnelm",
        "scipy.special._special_ufuncs.modfresnelp",
        "scipy.special._special_ufuncs.modstruve",
        "scipy.special._special_ufuncs.ndtr",
        "scipy.special._special_ufuncs.obl_ang1",
        "scipy.special._special_ufuncs.obl_ang1_cv",
        "scipy.special._special_ufuncs.obl_cv",
        "scipy.special._special_ufuncs.obl_rad1",
        "scipy.special._special_ufuncs.obl_rad1_cv",
        "scipy.special._special_ufuncs.obl_rad2",
        "scipy.special._special_ufuncs.obl_rad2_cv",
        "scipy.special._special_ufuncs.pbdv",
        "scipy.special._special_ufuncs.pbvv",
        "scipy.special._special_ufuncs.pbwa",
        "scipy.special._special_ufuncs.pro_ang1",
        "scipy.special._special_ufuncs.pro_ang1_cv",
        "scipy.special._special_ufuncs.pro_cv",
        "scipy.special._special_ufuncs.pro_rad1",
        "scipy.special._special_ufuncs.pro_rad1_cv",
        "scipy.special._special_ufuncs.pro_rad2",
        "scipy.special._special_ufuncs.pro_rad2_cv",
        "scipy.special._special_ufuncs.psi",
        "scipy.special._special_ufuncs.radian",
        "scipy.special._special_ufuncs.rgamma",
        "scipy.special._special_ufuncs.sindg",
        "scipy.special._special_ufuncs.struve",
        "scipy.special._special_ufuncs.tandg",
        "scipy.special._special_ufuncs.voigt_profile",
        "scipy.special._special_ufuncs.wofz",
        "scipy.special._special_ufuncs.wright_bessel",
        "scipy.special._special_ufuncs.xlog1py",
        "scipy.special._special_ufuncs.xlogy",
        "scipy.special._special_ufuncs.y0",
        "scipy.special._special_ufuncs.y1",
        "scipy.special._special_ufuncs.yv",
        "scipy.special._special_ufuncs.yve",
        "scipy.special._special_ufuncs.zetac",
        "scipy.special._ufuncs.agm",
        "scipy.special._ufuncs.bdtr",
        "scipy.special._ufuncs.bdtrc",
        "scipy.special._ufuncs.bdtri",
        "scipy.special._ufuncs.bdtrik",
        "scipy.special._ufuncs.bdtrin",
        "scipy.special._ufuncs.betainc",
        "scipy.special._ufuncs.betaincc",
        "scipy.special._ufuncs.betainccinv",
        "scipy.special._ufuncs.betaincinv",
        "scipy.special._ufuncs.boxcox",
        "scipy.special._ufuncs.boxcox1p",
        "scipy.special._ufuncs.btdtria",
        "scipy.special._ufuncs.btdtrib",
        "scipy.special._ufuncs.chdtr",
        "scipy.special._ufuncs.chdtrc",
        "scipy.special._ufuncs.chdtri",
        "scipy.special._ufuncs.chdtriv",
        "scipy.special._ufuncs.chndtr",
        "scipy.special._ufuncs.chndtridf",
        "scipy.special._ufuncs.chndtrinc",
        "scipy.special._ufuncs.chndtrix",
        "scipy.special._ufuncs.elliprc",
        "scipy.special._ufuncs.elliprd",
        "scipy.special._ufuncs.elliprf",
        "scipy.special._ufuncs.elliprg",
        "scipy.special._ufuncs.elliprj",
        "scipy.special._ufuncs.entr",
        "scipy.special._ufuncs.erfcinv",
        "scipy.special._ufuncs.erfinv",
        "scipy.special._ufuncs.eval_chebyc",
        "scipy.special._ufuncs.eval_chebys",
        "scipy.special._ufuncs.eval_chebyt",
        "scipy.special._ufuncs.eval_chebyu",
        "scipy.special._ufuncs.eval_gegenbauer",
        "scipy.special._ufuncs.eval_genlaguerre",
        "scipy.special._ufuncs.eval_hermite",
        "scipy.special._ufuncs.eval_hermitenorm",
        "scipy.special._ufuncs.eval_jacobi",
        "scipy.special._ufuncs.eval_laguerre",
        "scipy.special._ufuncs.eval_legendre",
        "scipy.special._ufuncs.eval_sh_chebyt",
        "scipy.special._ufuncs.eval_sh_chebyu",
        "scipy.special._ufuncs.eval_sh_jacobi",
        "scipy.special._ufuncs.eval_sh_legendre",
        "scipy.special._ufuncs.expn",
        "scipy.special._ufuncs.fdtr",
        "scipy.special._ufuncs.fdtrc",
        "scipy.special._ufuncs.fdtri",
        "scipy.special._ufuncs.fdtridfd",
        "scipy.special._ufuncs.gdtr",
        "scipy.special._ufuncs.gdtrc",
        "scipy.special._ufuncs.gdtria",
        "scipy.special._ufuncs.gdtrib",
        "scipy.special._ufuncs.gdtrix",
        "scipy.special._ufuncs.huber",
        "scipy.special._ufuncs.hyp0f1",
        "scipy.special._ufuncs.hyp1f1",
        "scipy.special._ufuncs.hyperu",
        "scipy.special._ufuncs.inv_boxcox",
        "scipy.special._ufuncs.inv_boxcox1p",
        "scipy.special._ufuncs.kl_div",
        "scipy.special._ufuncs.kn",
        "scipy.special._ufuncs.kolmogi",
        "scipy.special._ufuncs.kolmogorov",
        "scipy.special._ufuncs.lpmv",
        "scipy.special._ufuncs.nbdtr",
        "scipy.special._ufuncs.nbdtrc",
        "scipy.special._ufuncs.nbdtri",
        "scipy.special._ufuncs.nbdtrik",
        "scipy.special._ufuncs.nbdtrin",
        "scipy.special._ufuncs.ncfdtr",
        "scipy.special._ufuncs.ncfdtri",
        "scipy.special._ufuncs.ncfdtridfd",
        "scipy.special._ufuncs.ncfdtridfn",
        "scipy.special._ufuncs.ncfdtrinc",
        "scipy.special._ufuncs.nctdtr",
        "scipy.special._ufuncs.nctdtridf",
        "scipy.special._ufuncs.nctdtrinc",
        "scipy.special._ufuncs.nctdtrit",
        "scipy.special._ufuncs.ndtri",
        "scipy.special._ufuncs.ndtri_exp",
        "scipy.special._ufuncs.nrdtrimn",
        "scipy.special._ufuncs.nrdtrisd",
        "scipy.special._ufuncs.owens_t",
        "scipy.special._ufuncs.pdtr",
        "scipy.special._ufuncs.pdtrc",
        "scipy.special._ufuncs.pdtri",
        "scipy.special._ufuncs.pdtrik",
        "scipy.special._ufuncs.poch",
        "scipy.special._ufuncs.powm1",
        "scipy.special._ufuncs.pseudo_huber",
        "scipy.special._ufuncs.rel_entr",
        "scipy.special._ufuncs.round",
        "scipy.special._ufuncs.shichi",
        "scipy.special._ufuncs.sici",
        "scipy.special._ufuncs.smirnov",
        "scipy.special._ufuncs.smirnovi",
        "scipy.special._ufuncs.spence",
        "scipy.special._ufuncs.stdtr",
        "scipy.special._ufuncs.stdtridf",
        "scipy.special._ufuncs.stdtrit",
        "scipy.special._ufuncs.tklmbda",
        "scipy.special._ufuncs.wrightomega",
        "scipy.special._ufuncs.yn",
    ),
}
# fmt: on


def listed() -> list[tuple[str, type]] | None:
    """``all_estimators()`` as skops reads it (each name with a class of that name and module),
    without importing scikit-learn's packages; None under another release than the list's."""
    from sklearn import __version__

    if __version__ != SKLEARN_VERSION:
        return None
    return [(name, type(name, (), {"__module__": module})) for name, module in ESTIMATORS]


def releases() -> dict[str, str]:
    """The installed skops, numpy and scipy releases (the type names depend on all three)."""
    import numpy
    import scipy
    import skops

    return {"skops": skops.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__}


def type_key(module: Any, oftype: type) -> str:
    """The key of one ``get_public_type_names`` call in :data:`PUBLIC_TYPE_NAMES`."""
    return f"{module.__name__}:{oftype.__module__}.{oftype.__qualname__}"


def type_names() -> dict[str, tuple[str, ...]] | None:
    """:data:`PUBLIC_TYPE_NAMES`, or None under other releases than the ones they were taken
    under."""
    if not PUBLIC_TYPE_NAMES or releases() != TYPE_NAME_RELEASES:
        return None
    return PUBLIC_TYPE_NAMES


def current() -> tuple[str, tuple[tuple[str, str], ...]]:
    """The installed scikit-learn's release and its all_estimators() as (name, module) pairs
    (this imports every scikit-learn package)."""
    from sklearn import __version__
    from sklearn.utils import all_estimators

    return __version__, tuple((name, cls.__module__) for name, cls in all_estimators())


def current_type_names() -> dict[str, list[str]]:
    """What skops' ``get_public_type_names`` answers while skops is imported here, by call
    (skops must not be imported yet: it is imported by this, the way mlready imports it)."""
    import sys

    from mlready import model_format

    if "skops.io" in sys.modules:
        raise RuntimeError("skops.io is imported already: run this in a fresh process")
    answers: dict[str, list[str]] = {}

    def record(real: Any) -> Any:
        def recorded(module: Any, oftype: type) -> list[str]:
            answer: list[str] = real(module=module, oftype=oftype)
            answers[type_key(module, oftype)] = list(answer)
            return answer

        return recorded

    model_format._skops_io(names_hook=record)
    return answers


def _rewrite() -> None:  # pragma: no cover - run by hand after upgrading a dependency
    """Rewrite this file's releases and lists for the installed packages (in a fresh process,
    after importing scikit-learn the way serve-batch does)."""
    import json

    import sklearn.base  # noqa: F401  (loaded before skops, as when a model loads)

    names = current_type_names()
    version, estimators = current()
    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    start = text.index("SKLEARN_VERSION = ")
    end = text.index("# fmt: on")
    body = "".join(f'    ("{name}", "{module}"),\n' for name, module in estimators)
    groups = "".join(
        f'    "{key}": (\n' + "".join(f'        "{name}",\n' for name in value) + "    ),\n"
        for key, value in sorted(names.items())
    )
    middle = (
        f'SKLEARN_VERSION = "{version}"\n\n'
        "#: (name, module) of each estimator, in the order all_estimators() gives them.\n"
        f"ESTIMATORS: tuple[tuple[str, str], ...] = (\n{body})\n\n"
        "#: The releases the type names below were taken under (skops, numpy, scipy).\n"
        f"TYPE_NAME_RELEASES: dict[str, str] = {json.dumps(releases())}\n\n"
        "#: What skops' ``get_public_type_names(module, oftype)`` answers while it imports, by\n"
        '#: ``"module:oftype"``; a call not listed here is computed by skops.\n'
        f"PUBLIC_TYPE_NAMES: dict[str, tuple[str, ...]] = {{\n{groups}}}\n"
    )
    path.write_text(text[:start] + middle + text[end:], encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    _rewrite()
