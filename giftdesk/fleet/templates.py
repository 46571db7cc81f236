"""Instance templates: named settings a new instance starts from."""

from __future__ import annotations

from sqlalchemy import select

from giftdesk.core.errors import NotFoundError
from giftdesk.db.fleet_models import InstanceTemplate
from giftdesk.fleet.records import TemplateRow
from giftdesk.fleet.spec import InstanceSettings


class Templates:
    """Part of ``FleetService``: saved instance settings."""

    def templates(self) -> list[TemplateRow]:
        with self.ctx.db.read_session() as session:
            return [TemplateRow.of(t) for t in session.scalars(select(InstanceTemplate).order_by(InstanceTemplate.name))]

    def template(self, ref: int | str) -> TemplateRow:
        with self.ctx.db.read_session() as session:
            found = (session.get(InstanceTemplate, int(ref)) if str(ref).isdigit()
                     else session.scalar(select(InstanceTemplate).where(InstanceTemplate.name == str(ref).strip())))
            if found is None:
                raise NotFoundError(f"There is no template '{ref}'.")
            return TemplateRow.of(found)

    def save_template(self, name: str, settings: InstanceSettings) -> TemplateRow:
        self.ctx.require("operator", "save templates")
        from giftdesk.core import validation

        name = validation.text(name, "template name", required=True, max_length=100)
        settings = settings.cleaned()
        with self.ctx.db.session() as session:
            template = session.scalar(select(InstanceTemplate).where(InstanceTemplate.name == name))
            if template is None:
                template = InstanceTemplate(name=name)
                session.add(template)
            for key, value in settings.as_dict().items():
                setattr(template, key, value)
            session.flush()
            self.ctx.audit(session, "instance.template", f"Saved template '{name}'", "template", template.id)
            return TemplateRow.of(template)

    def delete_template(self, ref: int | str) -> None:
        self.ctx.require("operator", "delete templates")
        row = self.template(ref)
        with self.ctx.db.session() as session:
            session.delete(session.get(InstanceTemplate, row.id))
            self.ctx.audit(session, "instance.template_delete", f"Deleted template '{row.name}'", "template", row.id)
