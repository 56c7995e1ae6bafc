"""Studies, sites, memberships and (from the protocol engine) protocol versions."""

from .study import Membership, Role, Site, Study

__all__ = ["Membership", "Role", "Site", "Study"]
