"""The portal's pages, one module per audience; `PAGES` is every route handler (the authorization table's rows)."""

from govhub.portal.pages.account import change_password, end_other_sessions, password_page, sessions_page
from govhub.portal.pages.analysis import (
    download_query,
    query_page,
    run_query_form,
    statistics_page,
    workspace_download,
)
from govhub.portal.pages.catalog import catalog_page, resource_page
from govhub.portal.pages.catalog_changes import catalog_changes_queue, propose_change, review_change
from govhub.portal.pages.home import home
from govhub.portal.pages.office import data_docs, events_page, freshness_board, scorecards, verify_events
from govhub.portal.pages.sharing import (
    answer_request,
    dispute_request,
    file_request_form,
    new_request_page,
    office_move,
    office_queue,
    request_page,
    revoke_grant_form,
    sharing_page,
    withdraw_request,
)
from govhub.portal.pages.signin import sign_in_form, sign_in_submit, sign_out
from govhub.portal.pages.steward import (
    annotated_workbook,
    deliver_page,
    feeds_page,
    problems_csv,
    template_download,
    upload,
    zero_update,
)
from govhub.portal.pages.tokens import issue_token, revoke_token_form, tokens_page

PAGES = [
    sign_in_form,
    sign_in_submit,
    sign_out,
    password_page,
    change_password,
    sessions_page,
    end_other_sessions,
    home,
    catalog_page,
    resource_page,
    propose_change,
    catalog_changes_queue,
    review_change,
    feeds_page,
    deliver_page,
    template_download,
    upload,
    zero_update,
    annotated_workbook,
    problems_csv,
    tokens_page,
    issue_token,
    revoke_token_form,
    sharing_page,
    new_request_page,
    file_request_form,
    request_page,
    withdraw_request,
    dispute_request,
    answer_request,
    office_queue,
    office_move,
    revoke_grant_form,
    query_page,
    run_query_form,
    download_query,
    statistics_page,
    workspace_download,
    freshness_board,
    scorecards,
    events_page,
    verify_events,
    data_docs,
]
