"""Jobs: read-only, outputs and errors pretty-printed, and the "Re-queue failed jobs"
action (assets.jobs.job_requeue)."""

from __future__ import annotations

from django.contrib import admin, messages

from assets.admin.fields import pretty_json
from assets.jobs import job_requeue
from assets.models import Job

@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs are a record of work done: no add, no edit, no delete (a QUEUED job's task
    would find its row gone, and a staged file would be left behind). Failed jobs can be
    re-queued by staff with the change permission on jobs."""

    list_display = ["id", "kind", "status", "account", "user", "created_at", "started_at", "finished_at", "attempts"]
    list_filter = ["status", "kind", "account"]
    list_select_related = ["account", "user"]
    search_fields = ["=id"]
    fields = [
        "id", "kind", "status", "account", "user", "attempts", "created_at", "started_at", "lease_until",
        "finished_at", "request_pretty", "progress_pretty", "output_pretty", "error_pretty",
    ]
    readonly_fields = fields
    actions = ["requeue_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_requeue_permission(self, request) -> bool:
        return request.user.has_perm("assets.change_job")

    @admin.display(description="request")
    def request_pretty(self, obj: Job):
        return pretty_json(obj.request)

    @admin.display(description="progress (items done, by index)")
    def progress_pretty(self, obj: Job):
        return pretty_json(obj.progress)

    @admin.display(description="output")
    def output_pretty(self, obj: Job):
        return pretty_json(obj.output)

    @admin.display(description="error")
    def error_pretty(self, obj: Job):
        return pretty_json(obj.error)

    @admin.action(description="Re-queue failed jobs", permissions=["requeue"])
    def requeue_failed(self, request, queryset) -> None:
        """Each selected ERROR job goes back to QUEUED with the items it already saved kept
        (they are not run again) and is queued once that has committed. Others are skipped."""
        requeued: list[str] = []
        skipped: list[str] = []
        for job in queryset.order_by("created_at"):
            problem = job_requeue(job)
            if problem is None:
                requeued.append(job.pk)
            else:
                skipped.append(f"{job.pk} ({problem})")
        if requeued:
            self.message_user(request, f"Re-queued {len(requeued)} job(s): {', '.join(requeued)}.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {len(skipped)} job(s): {'; '.join(skipped)}.", messages.WARNING)
