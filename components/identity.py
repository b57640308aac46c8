"""Keeping resources' identity when the component tree above them changes.

A resource's URN holds the types of all its parents, so moving it under a new component (as 0.2.0 moved
the pipeline's notifier-side resources into its `ArrayCompletionNotifier`) would make `pulumi up` create
a new resource and delete the old one: a new topic (subscribers must confirm again), a new table (the
record of what was already notified is gone), new ARNs for everyone who wired them. An alias naming the
old parent tells the engine it is the same resource. A transformation rather than an alias passed by
each module: resources added to the component later are covered without anyone remembering to.
"""

from __future__ import annotations

import pulumi


def children_moved_from(component: pulumi.Resource, previous_parent: pulumi.Resource) -> pulumi.ResourceTransformation:
    """Give each direct child of `component` an alias to the same name and type under `previous_parent`.

    Deeper descendants need nothing: the engine derives their aliases from their parents'.
    """

    def keep_identity(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.opts.parent is not component:
            return None
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=previous_parent)])
        return pulumi.ResourceTransformationResult(
            props=args.props, opts=pulumi.ResourceOptions.merge(args.opts, moved)
        )

    return keep_identity
