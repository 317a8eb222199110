"use strict";
// Names for the admin's autocomplete boxes. Django draws them with select2, which hides
// the <select> its <label> names and shows boxes of its own that have no name, so a
// screen reader says "combo box" and nothing else (axe-core: aria-input-field-name,
// label). Each box gets its field's label; its value stays the chosen item's text.
// Boxes appear when the page loads, when "Add another" adds a row and when a list
// opens, so a MutationObserver names each as it comes.
{
    // Names `element` as `select` is named: by its <label> (given an id if it has none),
    // or, in a table's row, which has no <label>, by the aria-label the server gave the
    // <select> (its column's heading; a hidden <select> cannot be pointed at: Chromium
    // then reads no name). False when the <select> has no name to give.
    const nameLike = (element, select) => {
        if (!select || !select.id) {
            return false;
        }
        const label = document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
        if (label) {
            if (!label.id) {
                label.id = `${select.id}-label`;
            }
            element.setAttribute("aria-labelledby", label.id);
            return true;
        }
        if (select.hasAttribute("aria-label")) {
            element.removeAttribute("aria-labelledby");
            element.setAttribute("aria-label", select.getAttribute("aria-label"));
            return true;
        }
        return false;
    };

    // A select2 box: the <span class="select2"> right after its <select>.
    const nameBox = (container) => {
        const select = container.previousElementSibling;
        if (!select || select.tagName !== "SELECT") {
            return;
        }
        // The box is named by the label, as a <select> is; its value is the chosen
        // item's text (select2 had named it by that text, and an empty box by nothing).
        const named = [
            container.querySelector(".select2-selection"),
            container.querySelector(".select2-selection--single .select2-selection__rendered"),
            // Several values: the box one types in to add one.
            ...container.querySelectorAll(".select2-search__field"),
        ];
        for (const element of named) {
            if (element) {
                nameLike(element, select);
            }
        }
    };

    // An open list's search box; its list is "select2-<select id>-results".
    const nameDropdown = (dropdown) => {
        const field = dropdown.querySelector(".select2-search__field");
        const results = dropdown.querySelector(".select2-results__options[id]");
        if (field && results) {
            const selectId = results.id.replace(/^select2-/, "").replace(/-results$/, "");
            nameLike(field, document.getElementById(selectId));
        }
    };

    const nameAll = (root) => {
        // The "×" that clears a choice is for the mouse (the keyboard clears with
        // Backspace): not read as part of the box's value ("times Low NK…"). Drawn by
        // admin-a11y.css instead of a character, which Chromium read despite aria-hidden.
        for (const clear of root.querySelectorAll(".select2-selection__clear")) {
            clear.setAttribute("aria-hidden", "true");
            clear.textContent = "";
        }
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
