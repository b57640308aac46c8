"""Entry of the source-based plugin package: hosts BatchArrayPipeline and ArrayCompletionNotifier for
TypeScript, Go, .NET, Java and YAML programs (`pulumi package add ../batch-array-notify/components` from a
program next to a checkout). Not a stack program: the repo root's `__main__.py` is that.

The CLI runs this file from `components/` after installing `requirements.txt` there, which installs the
component package from the repository root: the plugin imports `batch_array_notify` exactly as any other
program does, so there is one copy of the code and one version. The package name below becomes the
consumers' SDK name (`batcharray`) and must equal the first part of the components' type tokens.
"""

from pulumi.provider.experimental import component_provider_host

from batch_array_notify import __version__
from batch_array_notify.plugin_schema import COMPONENTS, PACKAGE_NAME, inherited_descriptions

PACKAGE_VERSION = __version__

if __name__ == "__main__":
    # The shared options' and outputs' descriptions live in base classes (see plugin_schema.py).
    with inherited_descriptions():
        component_provider_host(components=list(COMPONENTS), name=PACKAGE_NAME, version=PACKAGE_VERSION)
