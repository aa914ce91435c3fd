"""Projections: pure, versioned handlers of events into read-model changes.

The runner (``projections.runner``) and the rebuild (``projections.rebuild``) are the
use cases; this package exports only what projections and read-model stores share.
"""

from commerce_core.projections.changes import Change, Delete, Increment, SetMax, SetMin, Upsert
from commerce_core.projections.checks import InvalidChangeError, check_change, check_changes
from commerce_core.projections.ports.read_models import (
    Checkpoint,
    CheckpointConflictError,
    Lease,
    Peers,
    ProjectionLocks,
    ProjectionState,
    QuarantineChangedError,
    QuarantinedEvent,
    QuarantineStore,
    ReadModelSchemaError,
    ReadModelStore,
)
from commerce_core.projections.progress import ProjectionFailedError, ProjectionStatus
from commerce_core.projections.projection import (
    Projection,
    event_name,
    stream_type,
    topics,
)
from commerce_core.projections.tables import (
    Column,
    ColumnType,
    Index,
    TableSpec,
    physical_name,
    serving_name,
)

__all__ = [
    "Change",
    "Checkpoint",
    "CheckpointConflictError",
    "Column",
    "ColumnType",
    "Delete",
    "Increment",
    "Index",
    "InvalidChangeError",
    "Lease",
    "Peers",
    "Projection",
    "ProjectionFailedError",
    "ProjectionLocks",
    "ProjectionState",
    "ProjectionStatus",
    "QuarantineChangedError",
    "QuarantineStore",
    "QuarantinedEvent",
    "ReadModelSchemaError",
    "ReadModelStore",
    "SetMax",
    "SetMin",
    "TableSpec",
    "Upsert",
    "check_change",
    "check_changes",
    "event_name",
    "physical_name",
    "serving_name",
    "stream_type",
    "topics",
]
