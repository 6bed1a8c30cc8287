"""The asset domain's tables.

An Account is a tenant: every user (through Membership), API key, asset, data schema and
job belongs to exactly one. Asset ids and job ids are UUID4s as 32 lower-case hex
characters. Lineage is a plain id column (`source_asset_id`), not a foreign key, because a
derived asset outlives its source and keeps the id as a dangling reference (SPEC §3).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from core.rules import CONVERSION_NAME_PATTERN, HEX32_PATTERN

DEFAULT_SCHEMA_ID = 0
BUILTIN_SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}


def new_hex_id() -> str:
    return uuid.uuid4().hex


class Account(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """A user's role in its account. Order matters: each role can do all the ones below."""

    USER = "USER", "User"
    CREATOR = "CREATOR", "Creator"
    MANAGER = "MANAGER", "Manager"
    ADMIN = "ADMIN", "Admin"

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.USER, cls.CREATOR, cls.MANAGER, cls.ADMIN].index(role)


class Membership(models.Model):
    """Ties a Django user to its one account, with one role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)

    def __str__(self) -> str:
        return f"{self.user} ({self.role} in {self.account})"

    def has_role(self, minimum: str) -> bool:
        return Role.rank(self.role) >= Role.rank(minimum)


class ApiKey(AbstractAPIKey):
    """A hashed API key that authenticates as one user (djangorestframework-api-key)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class DataSchema(models.Model):
    """A JSON Schema (draft 2020-12) that an asset's `data` must satisfy.

    Schema 0 is built in (account NULL, "any object") and visible to every account.
    """

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="data_schemas"
    )
    name = models.CharField(max_length=100)
    schema = models.JSONField(blank=True, help_text="a JSON Schema, draft 2020-12; {} accepts any data")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id}: {self.name}"

    @classmethod
    def ensure_builtin(cls, using: str = "default") -> "DataSchema":
        """Create schema 0 if it is missing (after migrate, and after a test flush)."""
        schema, _ = cls.objects.using(using).get_or_create(
            id=DEFAULT_SCHEMA_ID, defaults={"account": None, "name": "default", "schema": BUILTIN_SCHEMA}
        )
        return schema

    @property
    def is_builtin(self) -> bool:
        return self.account_id is None

    def clean(self) -> None:
        from assets.validators import schema_check

        errors = schema_check(self.schema)
        if errors:
            raise ValidationError({"schema": errors})


class AssetStatus(models.TextChoices):
    OK = "OK"
    NOT_READY = "NOT_READY"
    ERROR = "ERROR"


class FileFacts(models.Model):
    """What is recorded about every stored file, original or conversion."""

    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the bytes, hex")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        abstract = True


class Asset(FileFacts):
    id = models.CharField(
        primary_key=True,
        max_length=32,
        default=new_hex_id,
        editable=False,
        validators=[RegexValidator(HEX32_PATTERN)],
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="assets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=255)
    file = models.FileField(max_length=500)  # named by assets.files.original_path
    status = models.CharField(max_length=10, choices=AssetStatus.choices, default=AssetStatus.OK)
    upload_time = models.DateTimeField(auto_now_add=True, db_index=True)
    update_time = models.DateTimeField(auto_now=True)
    data = models.JSONField(default=dict, blank=True)
    data_schema = models.ForeignKey(
        DataSchema, on_delete=models.PROTECT, default=DEFAULT_SCHEMA_ID, related_name="assets"
    )
    source_asset_id = models.CharField(
        max_length=32,
        null=True,
        blank=True,
        db_index=True,
        validators=[RegexValidator(HEX32_PATTERN)],
    )

    class Meta:
        ordering = ["-upload_time", "-id"]
        indexes = [models.Index(fields=["account", "-upload_time"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Conversion(FileFacts):
    """A named derived file of one asset; one per (asset, name)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="conversions")
    name = models.CharField(max_length=30, validators=[RegexValidator(CONVERSION_NAME_PATTERN)])
    file = models.FileField(max_length=500)  # named by assets.files.conversion_path
    update_time = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "name"], name="conversion_unique_per_asset")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id}/{self.name}"


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED"
    OK = "OK"
    ERROR = "ERROR"


class Job(models.Model):
    """A unit of background work and its per-item outcome; the record of that work.

    The row is the truth and the broker only a doorbell (assets.jobs): `status` stays
    QUEUED until the job ends; `started_at`, `lease_until` and `claim` say which attempt
    runs it now (`attempts` counts them); `progress` records each item that is done, in the
    same transaction as its save, so a retry skips it. `output` is a list of
    {"name", "asset_id"} and `error` a list of {"name", "asset_id", "error"}, as SPEC §5
    shows them, written when the job ends.
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_hex_id, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="jobs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    request = models.JSONField(default=dict, blank=True)
    output = models.JSONField(default=list, blank=True)
    error = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    progress = models.JSONField(default=dict, blank=True)
    claim = models.CharField(max_length=32, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set when the job ends, in the same transaction; cleared once its staged files and the
    # files of items that never committed are gone (the sweep finishes what a killed
    # process left undone).
    files_pending = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "lease_until"], name="job_status_lease")]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class Rendition(FileFacts):
    """A file made from an asset's original or one of its conversions at a size and format
    (SPEC §9): made on first request, kept, and deleted with its source file.

    `source` is "original" or the conversion's name, `source_file` the stored name of the
    file it was made from (a replaced conversion has a new one), `spec` the normalised
    parameters (core.renditions.RenditionPlan.key). `used_at` orders the least recently
    used first when the per-asset cap makes room (updated at most once a minute per row).
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="renditions")
    source = models.CharField(max_length=30)
    source_file = models.CharField(max_length=500)
    spec = models.CharField(max_length=100)
    file = models.FileField(max_length=500)  # named by assets.services.renditions
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-used_at"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "source", "spec"], name="rendition_unique_per_source_and_spec")
        ]
        indexes = [models.Index(fields=["asset", "used_at"], name="rendition_lru")]

    def __str__(self) -> str:
        return f"{self.asset_id}/{self.source}/{self.spec}"


class Webhook(models.Model):
    """An account's subscription: events of the account are POSTed to `url`, signed with
    `secret` (Standard Webhooks, `whsec_` + base64; shown once, at creation). assets.webhooks."""

    id = models.CharField(primary_key=True, max_length=32, default=new_hex_id, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.id})"


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING"  # waiting for its time (`scheduled_at`), or being sent
    OK = "OK"  # the target answered 2xx
    ERROR = "ERROR"  # any other answer, a time-out or a refused address; `next_retry` says what follows


class WebhookDelivery(models.Model):
    """One attempt at sending one event to one webhook: the row is made PENDING (in the
    transaction of the change it reports, or by the attempt before it), then records what
    the attempt got. All attempts at one event share `message_id` (the `webhook-id` header,
    for the receiver to drop repeats); `attempt` counts them, `series_attempt` counts them
    since the event or its last resend (the back-off and the cap go by it)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_hex_id, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=32, db_index=True)
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    attempt = models.PositiveIntegerField(default=1)
    series_attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    scheduled_at = models.DateTimeField()
    claim = models.CharField(max_length=32, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    rung_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    next_retry = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-attempt"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["message_id", "attempt"], name="delivery_attempt_unique")
        ]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="delivery_status_due")]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook_id}, attempt {self.attempt} ({self.status})"
