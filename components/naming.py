"""`name_prefix`: a `Name` tag on every taggable child, `<prefix>-<part>` where the part is what
follows the component's name in the child's logical name (`etl` + `pipe-queue` -> `etl-queue`).

A transformation rather than a tag passed by each module: resources added later get the tag without
anyone remembering to, and the other tags stay exactly what the user gave. It only touches resources
that already take `tags`, so untaggable ones (policies, targets, permissions) are left as they are.
The legacy SDK-side `transformations` option is used because the engine-side `transforms` do not run
under the mock runtime the tests use, and both are inherited by every child of the component.
"""

from __future__ import annotations

import pulumi


def name_tag_transformation(component_name: str, prefix: str) -> pulumi.ResourceTransformation:
    def add_name_tag(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if "tags" not in args.props or not isinstance(args.props["tags"], dict | None):
            return None
        part = args.name.removeprefix(f"{component_name}-") if args.name != component_name else "component"
        tags = {**(args.props["tags"] or {}), "Name": f"{prefix}-{part}"}
        return pulumi.ResourceTransformationResult(props={**args.props, "tags": tags}, opts=args.opts)

    return add_name_tag


def numbered(name: str, index: int) -> str:
    """The logical name of the `index`-th of several like resources: the first keeps the plain name, so a
    resource that was alone before keeps its identity when a second one joins (`x`, `x-2`, `x-3`)."""
    return name if index == 0 else f"{name}-{index + 1}"
