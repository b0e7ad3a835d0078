"""Stand-ins for what a real cluster runs but this one cannot: a volume
provisioner and (as the roles arrive) operators. Each controller is a small
polling reconciler written from the upstream facts; docs/testing.md lists what
each one does and does not do.
"""
