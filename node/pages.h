/*
 * The credential's public page (issue #15, SPEC §8) and its assets, served from the bytes
 * web/ had at build time (node/web_assets.h):
 *     GET /c/{ref}          the page: {ref} is the credential's UUID (for a urn:uuid id) or
 *                           its percent-encoded id; ?lang=ko|en overrides Accept-Language
 *     GET /c/{ref}/qr.svg   the page's URL as a QR code
 *     GET /lookup           the form finding a page by issue number and email (SPEC §8)
 *     GET /admin/account, /admin/signin, /admin/enroll
 *                           the people's sign-in pages (issue #16): the account page, passkey
 *                           or recovery-code sign-in, and enrollment from an invite link
 *                           (/admin/enroll#<secret>); shells whose scripts call /v1/auth/
 *     GET /admin/ (/admin: 308 to it), /admin/credential?id=, /admin/upload,
 *         /admin/dashboard, /admin/audit, /admin/people
 *                           the admin console (issue #17): the credentials list (its filters
 *                           in the URL's fragment), one credential with revoke/suspend/
 *                           reinstate, the roster upload (check, then issue in chunks),
 *                           completion by department and course with anchoring and health,
 *                           the audit log, people and tokens; shells whose scripts call the
 *                           role routes with the session cookie
 *     GET /assets/{path..}  web/<path>, with its SRI hash as ETag
 * The page proves the credential in the visitor's browser (web/verify/); the node only
 * hands out the HTML shell, which names no verdict. Conventions: common.h.
 */
#ifndef CREDANCHOR_PAGES_H
#define CREDANCHOR_PAGES_H

#include "credanchor/common.h"
#include "node/config.h"

#include <stddef.h>

struct ca_http_server;

/* Room for any page URL: the public URL, "/c/" and a percent-encoded id of up to 256 bytes. */
#define CA_PAGE_URL_MAX (CA_CONFIG_STR_MAX + 3 * 256 + 8)

/* The absolute URL of the page of credential id (the `page` member of SPEC §5 answers):
 * <public_url>/c/<uuid> for a urn:uuid id, else <public_url>/c/<percent-encoded id>. */
void ca_page_url(char *out, size_t cap, const char *public_url, const char *id);

/* The page language ("en" or "ko", a static string) for an Accept-Language value (NULL: none):
 * the highest-q supported range, "*" meaning the default "en". Reads at most 512 bytes. */
const char *ca_page_lang_from_header(const char *accept_language);

/* Registers the page and asset routes. CA_ERR_CONFIG when the page's Content-Security-Policy
 * (with page.rpc_urls) does not fit a header; CA_ERR_NOMEM. */
ca_err ca_page_routes_register(struct ca_http_server *srv, const ca_config *cfg,
                               ca_errbuf *eb);

#endif
