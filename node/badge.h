/*
 * Baked badges (Open Badges 3.0 §5.3 "Baking"; issue #15, SPEC §8): the achievement's image
 * carrying the credential exactly as issued, so the image alone can be verified.
 *   PNG: an iTXt chunk, keyword "openbadgecredential", uncompressed, whose text is the
 *        compact VC-JWT or the JSON credential.
 *   SVG: an <openbadges:credential> element (xmlns:openbadges="https://purl.imsglobal.org/
 *        ob/v3p0") right after the <svg> tag: verify="<compact JWS>" for a VC-JWT, else the
 *        JSON in CDATA.
 * The image is the achievement's own when it is a data: URI of that type (a PNG is decoded
 * and re-encoded; an SVG is kept as text), else a round badge drawn from the credential's
 * names. Conventions: common.h.
 */
#ifndef CREDANCHOR_BADGE_H
#define CREDANCHOR_BADGE_H

#include "credanchor/common.h"
#include "node/certificate.h"

#include <jansson.h>
#include <stddef.h>

/* cred is the credential JSON (for its image), doc/doc_len the signed bytes to bake. */
ca_err ca_badge_png(char **out, size_t *len, const ca_credential_view *v, const json_t *cred,
                    const char *doc, size_t doc_len, ca_errbuf *eb);
ca_err ca_badge_svg(char **out, size_t *len, const ca_credential_view *v, const json_t *cred,
                    const char *doc, size_t doc_len, ca_errbuf *eb);

#endif
