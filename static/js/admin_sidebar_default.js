/* The admin's navigation sidebar starts folded on a screen under 1600 px wide the first time it is
   seen: open beside the filters, it left a list 631 of 1280 px and half of the case list's columns
   out of sight. Its « button opens it, and Django keeps that choice (localStorage). Loaded without
   `defer`, so it runs before Django's nav_sidebar.js reads the choice. */
(function () {
  "use strict";
  var KEY = "django.admin.navSidebarIsOpen";
  try {
    if (window.localStorage.getItem(KEY) === null && window.innerWidth < 1600) {
      window.localStorage.setItem(KEY, "false");
    }
  } catch (refused) {
    /* Storage refused (a private window): Django's default, the sidebar open. */
  }
}());
