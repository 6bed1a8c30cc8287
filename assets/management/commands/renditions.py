"""manage.py renditions: make the thumbnail rendition of every stored file again.

    manage.py renditions                   remake every thumbnail (original and conversions)
    manage.py renditions --only-missing    make only those that are missing
    manage.py renditions --asset ID        only this asset's files
    manage.py renditions --purge           first delete every rendition (all sizes) of the
                                           chosen assets, then make the thumbnails

A progress bar goes to stderr, the summary to stdout. A file that cannot be rendered is
reported and skipped; the exit status is 1 if any failed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from assets.models import Asset, Rendition
from assets.services.renditions import THUMBNAIL_ACCEPT, rendition_get, renditions_drop, thumbnail_plan, thumbnail_query
from core.rules import is_hex32


class Command(BaseCommand):
    help = "Make the thumbnail rendition of every stored file (SPEC §9)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--only-missing", action="store_true", help="make only the thumbnails that are missing")
        parser.add_argument("--asset", metavar="ID", help="only this asset (its original and conversions)")
        parser.add_argument("--purge", action="store_true", help="delete every rendition of the chosen assets first")

    def handle(self, *args, only_missing: bool = False, asset: str | None = None, purge: bool = False, **options) -> None:
        assets = Asset.objects.order_by("upload_time", "id").prefetch_related("conversions")
        if asset is not None:
            if not is_hex32(asset) or not Asset.objects.filter(pk=asset).exists():
                raise CommandError(f"no asset with id {asset!r}")
            assets = assets.filter(pk=asset)
        if purge:
            ids = list(assets.values_list("id", flat=True))
            with transaction.atomic():
                purged = sum(renditions_drop(asset_ids=ids[i : i + 500]) for i in range(0, len(ids), 500))
            self.stdout.write(f"{purged} renditions purged")
        files = [(a, name) for a in assets for name in ["original", *(c.name for c in a.conversions.all())]]
        made = skipped = failed = 0
        for item, name in tqdm(files, desc="thumbnails", unit="file", file=self.stderr._out, disable=not files):
            plan, source_file = thumbnail_plan(item, name)
            existing = Rendition.objects.filter(asset=item, source=name, spec=plan.key).first()
            if existing is not None and existing.source_file == source_file:
                if only_missing:
                    skipped += 1
                    continue
                with transaction.atomic():
                    renditions_drop(asset_ids=[item.pk], source=name, spec=plan.key)
            try:
                rendition_get(asset=item, name=name, query=thumbnail_query(), accept=THUMBNAIL_ACCEPT)
                made += 1
            except Exception as exc:  # one bad file must not stop the rebuild
                failed += 1
                self.stderr.write(f"{item.id}/{name}: {getattr(exc, 'message', None) or exc}")
        self.stdout.write(f"{made} made, {skipped} already there, {failed} failed")
        if failed:
            raise SystemExit(1)
