from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificationConfig(AppConfig):
    name = "certification"
    verbose_name = _("Certification")

    def ready(self):
        from certification import demo, navigation, publication, workflow
        from enterprises import documents as enterprise_documents
        from enterprises import services as enterprise_services
        from portal import demo as portal_demo
        from portal import navigation as portal_navigation

        enterprise_services.FACTS_CHANGED.append(navigation.rescreen_after_commit)
        enterprise_services.IDENTITY_LOCKS.append(workflow.submitted_application_lock)
        enterprise_documents.DOCUMENT_READERS.append(workflow.expert_may_read_document)
        workflow.APPLY_BLOCKERS.append(publication.holds_active_certification)
        portal_navigation.NAV_PROVIDERS.append(navigation.nav_links)
        portal_navigation.DASHBOARD_PROVIDERS.append(navigation.dashboard_cards)
        portal_demo.SEEDERS.insert(0, demo.seed_programs)
        portal_demo.SEEDERS.append(demo.seed_rounds)
