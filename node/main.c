/* credanchor: the node daemon and its command line (SPEC §6). Everything is in the library;
 * this file only hands over to the verb dispatcher in node/cli.c. */
#include "node/cli.h"

int main(int argc, char **argv)
{
    return ca_cli_main(argc, argv);
}
