"use strict";
// Names for the admin's autocomplete boxes. Django draws them with select2, which hides
// the <select> its <label> names and shows boxes of its own that have no name, so a
// screen reader says "combo box" and nothing else (axe-core: aria-input-field-name,
// label). Each box gets its field's label, and its chosen value where it has one.
// Boxes appear when the page loads, when "Add another" adds a row and when a list
// opens, so a MutationObserver names each as it comes.
{
    // The id of what names the <select>: its <label>, or, in a table's row (which has no
    // <label>), the <select> itself, which the server gave an aria-label.
    const labelId = (select) => {
        if (!select || !select.id) {
            return null;
        }
        const label = document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
        if (!label) {
            return select.hasAttribute("aria-label") ? select.id : null;
        }
        if (!label.id) {
            label.id = `${select.id}-label`;
        }
        return label.id;
    };

    // A select2 box: the <span class="select2"> right after its <select>.
    const nameBox = (container) => {
        const select = container.previousElementSibling;
        if (!select || select.tagName !== "SELECT") {
            return;
        }
        const label = labelId(select);
        if (!label) {
            return;
        }
        const selection = container.querySelector(".select2-selection");
        const rendered = container.querySelector(".select2-selection--single .select2-selection__rendered[id]");
        if (rendered) {
            // One value: the box is named "<label> <value>", the value's text by the label.
            rendered.setAttribute("aria-labelledby", label);
            selection.setAttribute("aria-labelledby", `${label} ${rendered.id}`);
        } else if (selection) {
            selection.setAttribute("aria-labelledby", label);
        }
        // Several values: the box one types in to add one.
        for (const field of container.querySelectorAll(".select2-search__field")) {
            field.setAttribute("aria-labelledby", label);
        }
    };

    // An open list's search box; its list is "select2-<select id>-results".
    const nameDropdown = (dropdown) => {
        const field = dropdown.querySelector(".select2-search__field");
        const results = dropdown.querySelector(".select2-results__options[id]");
        if (!field || !results) {
            return;
        }
        const selectId = results.id.replace(/^select2-/, "").replace(/-results$/, "");
        const label = labelId(document.getElementById(selectId));
        if (label) {
            field.setAttribute("aria-labelledby", label);
        }
    };

    const nameAll = (root) => {
        for (const container of root.querySelectorAll("span.select2-container")) {
            if (container.querySelector(".select2-dropdown")) {
                nameDropdown(container);
            } else {
                nameBox(container);
            }
        }
    };

    // An open list: the box says which list it controls (ARIA 1.2 asks for
    // aria-controls on an expanded combo box; select2 sets only aria-owns).
    const listOpened = (select, open) => {
        const container = select.nextElementSibling;
        const selection = container && container.querySelector(".select2-selection");
        if (!selection) {
            return;
        }
        if (open) {
            selection.setAttribute("aria-controls", `select2-${select.id}-results`);
        } else {
            selection.removeAttribute("aria-controls");
        }
    };

    const start = () => {
        if (window.django && window.django.jQuery) {
            // select2's own events, sent on the <select> (jQuery's, so not addEventListener).
            window.django.jQuery(document)
                .on("select2:open", (event) => listOpened(event.target, true))
                .on("select2:close", (event) => listOpened(event.target, false));
        }
        nameAll(document);
        new MutationObserver((mutations) => {
            for (const mutation of mutations) {
                for (const node of mutation.addedNodes) {
                    if (node.nodeType === Node.ELEMENT_NODE) {
                        nameAll(node.parentElement || document);
                    }
                }
            }
        }).observe(document.body, {childList: true, subtree: true});
    };

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
}
