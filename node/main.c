/* credanchor: the node daemon and its command line (SPEC §6). Everything is in the library;
 * this file sets up process-wide state and hands over to the verb dispatcher in node/cli.c. */
#include "node/cli.h"

#include <curl/curl.h>

int main(int argc, char **argv)
{
    /* libcurl's global init is not thread-safe; do it once, before any thread exists
     * (did:web fetches run in HTTP worker threads). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("credanchor: cannot initialise libcurl\n", stderr);
        return CA_EXIT_USAGE;
    }
    int rc = ca_cli_main(argc, argv);
    curl_global_cleanup();
    return rc;
}
