"""The project site: one static, self-contained folder of pages (``<artifacts_dir>/site/``)
to browse a project: readiness over time, the registry, every run with its report, the data
checks, drift per feature and the alerts. No server, no script, no CDN: it opens from disk, as
a CI artifact, or on a static host.

    from mlready.site import build_site
    result = build_site(load_spec("mlready.yaml"))
    result.index  # .mlready/site/index.html
"""

from mlready.site.build import SITE_DIR, SiteResult, build_site, site_dir

__all__ = ["SITE_DIR", "SiteResult", "build_site", "site_dir"]
