/*
 * node/routes_templates.h — the achievement templates and their certificate layouts, listed,
 * read and edited over HTTP (issue #17 "Templates"; the console's /admin/templates):
 *     GET  /v1/templates                     issuer  every template: name, version,
 *                                                    achievement id/name/type, issuer name,
 *                                                    certificateSource
 *     GET  /v1/templates/{name}              issuer  {"name","version","templateSha256",
 *                                                    "template","certificate",
 *                                                    "certificateSource","certificateSha256",
 *                                                    "issuerName"}; ETag: the version
 *     PUT  /v1/templates/{name}              admin   {"template","certificate"|null} with
 *                                                    If-Match: the version (428 without, 412
 *                                                    when it changed); 200 as GET
 *     POST /v1/templates                     admin   {"name","template","certificate"?}
 *                                                    -> 201 (409 when it exists)
 *     POST /v1/templates/{name}/preview.pdf  admin   the certificate of a sample recipient
 *                                                    drawn from an UNSAVED template/layout
 * Bodies are capped at 2 MiB (413). Files: <credentials.templates_dir>/<name>.json and
 * <credentials.certificates_dir>/<achievement key>.json, each written atomically (temp file
 * in the same directory, fsync, rename, fsync of the directory); the replaced bytes are kept
 * first under <dir>/.history/<name or key>/<UTC time>-<sha256>.json. The version is the
 * SHA-256 of the template file, or, when the achievement has a layout of its own, the SHA-256
 * of "<template sha256>:<layout sha256>" (so a layout edit is a new version too). Every write
 * is one audit entry naming the person, the template and both versions. Nothing already
 * issued changes: a credential carries the text it was signed with.
 */
#ifndef CREDANCHOR_NODE_ROUTES_TEMPLATES_H
#define CREDANCHOR_NODE_ROUTES_TEMPLATES_H

#include "credanchor/common.h"

struct ca_http_server;

#define CA_TEMPLATE_BODY_MAX (2u << 20) /* request bodies of the editing routes */

/* Registers the routes on srv. */
ca_err ca_template_routes_register(struct ca_http_server *srv, ca_errbuf *eb);

#endif
