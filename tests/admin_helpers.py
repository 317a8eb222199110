"""Turn a rendered admin change form back into the POST a browser would send."""

from __future__ import annotations


def _field_data(form) -> dict[str, object]:
    data: dict[str, object] = {}
    for bound in form:
        value = bound.value()
        if value is None:
            continue
        if isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        else:
            data[bound.html_name] = str(value)
    return data


def change_form_data(response) -> dict[str, object]:
    """The values the change form shows, with every inline formset, as POST data."""
    context = response.context
    data = _field_data(context["adminform"].form)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        data.update(_field_data(formset.management_form))
        for form in formset.forms:
            data.update(_field_data(form))
    return data
