/*
 * Built by `make install-test` with nothing but the flags of the installed brook.pc:
 *   cc pkgconfig_test.c $(pkg-config --cflags --libs brook)
 * It checks that the installed header and library belong together and work.
 */
#include <brook.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  brook_data *d = NULL;
  char *text = NULL;
  int ok;

  if (strcmp(brook_version(), BROOK_VERSION_STRING) != 0) {
    fprintf(stderr, "library %s, header %s\n", brook_version(), BROOK_VERSION_STRING);
    return 1;
  }
  if (brook_data_from_text("(42, 80/tcp)", &d) != BROOK_STATUS_OK ||
      brook_data_to_string(d, &text, NULL) != BROOK_STATUS_OK) {
    fprintf(stderr, "brook: %s\n", brook_last_error());
    brook_data_free(d);
    return 1;
  }
  ok = strcmp(text, "(42, 80/tcp)") == 0;
  printf("installed brook %s via pkg-config: %s\n", brook_version(), ok ? "ok" : text);
  brook_string_free(text);
  brook_data_free(d);
  return ok ? 0 : 1;
}
