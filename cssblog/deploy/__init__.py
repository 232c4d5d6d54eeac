"""Publishing the built site: one deployer per target, each planning before it publishes.

The entry points live in :mod:`cssblog.deploy.deployment`; this package imports nothing on its
own, so that reading ``cssblog.toml`` (which knows the target types) stays cheap.
"""
