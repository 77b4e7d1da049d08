/* A program that knows the library only through its installed files. */
#include <stdio.h>
#include <string.h>

#include <simclr/simclr.h>

int main(void)
{
    if (simclr_version() != SIMCLR_VERSION_NUMBER) {
        fprintf(stderr, "header %s but library %s\n", SIMCLR_VERSION_STRING,
                simclr_version_string());
        return 1;
    }
    if (strcmp(simclr_status_name(SIMCLR_ERR_NOMEM), "SIMCLR_ERR_NOMEM")) {
        fprintf(stderr, "status table broken\n");
        return 1;
    }
    printf("libsimclr %s\n", simclr_version_string());
    return 0;
}
