"""Fleet tables: tracker instances, their event history and saved templates.

``instances`` keeps the fleet design's columns except the two secrets: the API key is the account's
credential (keyring, ``tracker-key/<account>``) and the dashboard password is in the keyring
too (``instance-dash-password/<id>``). What Docker needs to recreate the container the same way
(engine, image, network, publish address, restart policy, limits) is kept beside them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from giftdesk.db.base import Base, TimestampMixin
from giftdesk.db.types import JSONText, UTCDateTime, utcnow


class InstanceTemplate(TimestampMixin, Base):
    """Saved settings for new instances (image, network, limits…), never a key or password."""

    __tablename__ = "instance_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    image: Mapped[str | None] = mapped_column(String(300))
    network: Mapped[str] = mapped_column(String(100), nullable=False, default="bridge")
    publish_address: Mapped[str] = mapped_column(String(64), nullable=False, default="127.0.0.1")
    restart_policy: Mapped[str] = mapped_column(String(32), nullable=False, default="unless-stopped")
    memory_limit_mb: Mapped[int | None] = mapped_column(Integer, default=256)
    cpu_millis: Mapped[int | None] = mapped_column(Integer)  # 500 = half a CPU
    debug_mode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Instance(TimestampMixin, Base):
    __tablename__ = "instances"
    __table_args__ = (UniqueConstraint("engine", "port", name="uq_instances_engine_port"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The identity its containers carry (label giftdesk.instance.uid): unlike the numeric id, a
    # crash between the engine and the database can never hand it to another instance.
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False, default=lambda: uuid.uuid4().hex)
    name: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    container_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The last state seen on the engine: created, running, restarting, paused, exited, dead, missing.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="created")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("tiktok_accounts.id", ondelete="SET NULL"), index=True)
    tiktok_username: Mapped[str] = mapped_column(String(64), nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False)
    backend_api_url: Mapped[str] = mapped_column(String(500), nullable=False)
    debug_mode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # '' is the console's configured engine (Settings' Docker host / DOCKER_HOST); more later.
    engine: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    image: Mapped[str] = mapped_column(String(300), nullable=False)
    network: Mapped[str] = mapped_column(String(100), nullable=False, default="bridge")
    publish_address: Mapped[str] = mapped_column(String(64), nullable=False, default="127.0.0.1")
    restart_policy: Mapped[str] = mapped_column(String(32), nullable=False, default="unless-stopped")
    memory_limit_mb: Mapped[int | None] = mapped_column(Integer, default=256)
    cpu_millis: Mapped[int | None] = mapped_column(Integer)
    schedule_start: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", daily
    schedule_stop: Mapped[str | None] = mapped_column(String(5))
    schedule_tz: Mapped[str | None] = mapped_column(String(64))
    public_url: Mapped[str | None] = mapped_column(String(500))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("instance_templates.id", ondelete="SET NULL"))
    # A running container another manager made, taken over as it is (never recreated to move in):
    # its labels are that manager's, so it is known as this instance's by this id alone.
    adopted_container_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # "container" (a container on the engine) or "service" (a one-replica Swarm service on a manager).
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="container", server_default="container")
    service_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # the Swarm service's id
    # Swarm placement: constraints ("node.labels.zone==eu") and spread preferences ("node.labels.zone").
    placement_constraints: Mapped[Any | None] = mapped_column(JSONText)
    placement_preferences: Mapped[Any | None] = mapped_column(JSONText)
    # How a service publishes its port: "host" (on the node it runs on) or "ingress" (the routing mesh).
    publish_mode: Mapped[str] = mapped_column(String(16), nullable=False, default="host", server_default="host")


class InstanceLog(Base):
    """``instance_logs``: what happened to an instance. Never a key or a password."""

    __tablename__ = "instance_logs"
    __table_args__ = (Index("ix_instance_logs_instance_created", "instance_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False, default="info")
    message: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[Any | None] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class InstanceOperation(Base):
    """The operation journal: a multi-step fleet operation (create, recreate, delete, adopt) says
    what it is about to do before it touches the engine, so that one killed half-way can be
    finished or rolled back (``FleetService.recover``). The entry goes in the same transaction
    as the operation's final record change.

    No foreign key to ``instances``: the entry must outlive a record its recovery removes."""

    __tablename__ = "instance_operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # create | recreate | delete | adopt
    instance_uid: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(32), nullable=False)
    old_container_id: Mapped[str | None] = mapped_column(String(64))
    new_container_id: Mapped[str | None] = mapped_column(String(64))
    parked_name: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[Any | None] = mapped_column(JSONText)
    owner_host: Mapped[str] = mapped_column(String(255), nullable=False)
    owner_pid: Mapped[int] = mapped_column(Integer, nullable=False)  # 0: released for recovery
    owner_started: Mapped[str] = mapped_column(String(80), nullable=False, default="")  # boot id and start ticks
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class DockerEngineRecord(TimestampMixin, Base):
    """A named Docker engine besides the console's configured one (which is "local" and has no
    row). Reached at ``host`` (unix://, tcp:// with mutual TLS, ssh://user@host) or through a
    Docker CLI context by name. The TLS client key is in the keyring (``engine-tls-key/<name>``),
    never here."""

    __tablename__ = "docker_engines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    host: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    context_name: Mapped[str | None] = mapped_column(String(200))
    tls_ca_path: Mapped[str | None] = mapped_column(String(1000))
    tls_cert_path: Mapped[str | None] = mapped_column(String(1000))
    backend_url: Mapped[str | None] = mapped_column(String(500))
