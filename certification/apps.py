from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from certification import (
            demo,
            demo_commissioners,
            demo_library,
            demo_lifecycle,
            demo_monitoring,
            directory_cache,
            lifecycle,
            monitoring,
            navigation,
            publication,
            workflow,
        )
        from certification.models import Certification, enterprise_moved
        from enterprises import documents as enterprise_documents
        from enterprises import services as enterprise_services
        from portal import demo as portal_demo
        from portal import navigation as portal_navigation

        enterprise_services.FACTS_CHANGED.append(navigation.rescreen_after_commit)
        enterprise_services.IDENTITY_LOCKS.append(workflow.submitted_application_lock)
        enterprise_documents.DOCUMENT_READERS.append(workflow.expert_may_read_document)
        workflow.APPLY_BLOCKERS.append(publication.holds_active_certification)
        post_save.connect(directory_cache.certification_saved, sender=Certification, dispatch_uid="listing")
        post_delete.connect(
            directory_cache.certification_saved, sender=Certification, dispatch_uid="listing-"
        )
        post_save.connect(
            enterprise_moved, sender="enterprises.Enterprise", dispatch_uid="certification-county"
        )
        workflow.APPLY_BLOCKERS.append(lifecycle.apply_bar_reason)
        lifecycle.DAILY_HOOKS.append(monitoring.monitoring_daily)
        portal_navigation.NAV_PROVIDERS.append(navigation.nav_links)
        portal_navigation.DASHBOARD_PROVIDERS.append(navigation.dashboard_cards)
        portal_demo.SEEDERS.insert(0, demo.seed_programs)
        portal_demo.SEEDERS.append(demo.seed_rounds)
        # after the publication demo: these work on its certifications
        portal_demo.SEEDERS.append(demo_lifecycle.seed_lifecycle)
        portal_demo.SEEDERS.append(demo_monitoring.seed_monitoring)
        portal_demo.SEEDERS.append(demo_commissioners.seed_commissioners)
        portal_demo.SEEDERS.append(demo_library.seed_library)
