// Scripts only enhance: every page works without them (sorting also by the column links, filters by GET).
import { initAll as initGovuk } from "/static/govuk/govuk-frontend.min.js";
import { initAll as initMoj } from "/static/moj/moj-frontend.min.js";

initGovuk();
initMoj();
