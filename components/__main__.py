"""Entry of the source-based plugin package: hosts BatchArrayPipeline for TypeScript, Go, .NET, Java
and YAML programs (`pulumi package add <repo>/components@<tag>`). Not a stack program: the repo root's
`__main__.py` is that.

The CLI runs this file from `components/` after installing `requirements.txt` there, which installs the
component package from the repository root: the plugin imports `batch_array_notify` exactly as any other
program does, so there is one copy of the code and one version. The package name below becomes the
consumers' SDK name (`batcharray`) and must equal the first part of the component's type token.
"""

from pulumi.provider.experimental import component_provider_host

from batch_array_notify import BatchArrayPipeline, __version__
from batch_array_notify.pipeline import TYPE_TOKEN

PACKAGE_NAME = TYPE_TOKEN.split(":", 1)[0]
PACKAGE_VERSION = __version__

if __name__ == "__main__":
    component_provider_host(components=[BatchArrayPipeline], name=PACKAGE_NAME, version=PACKAGE_VERSION)
