// notify(state): one sd_notify(3) datagram from this process, as a Node app under systemd sends READY=1 (the npm
// sd-notify package does the same in a native addon). Node has no AF_UNIX datagrams; without this the worker would
// fork systemd-notify, a copy of the ~40 MB Node process, just as it starts to accept.
// Returns true if the datagram was sent; false if NOTIFY_SOCKET is unset or not a path or "@" name, or the send
// failed. Throws (TypeError) only for a state that is not a string shorter than 4 KiB. Built by bench/lib.sh
// (build_notify_addon).
#include <node_api.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value notify(napi_env env, napi_callback_info info) {
  size_t argc = 1, len = 0;
  napi_value arg, result;
  char state[4096];
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_get_value_string_utf8(env, arg, NULL, 0, &len) != napi_ok || len >= sizeof state) {
    napi_throw_type_error(env, NULL, "notify(state): state must be a string shorter than 4096 bytes");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, arg, state, sizeof state, &len) != napi_ok) return NULL;

  int sent = 0;
  const char *path = getenv("NOTIFY_SOCKET");
  size_t path_len = path ? strlen(path) : 0;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (path_len >= 2 && (path[0] == '/' || path[0] == '@') && path_len < sizeof addr.sun_path) {
    memcpy(addr.sun_path, path, path_len);
    // an abstract name ("@name") starts with a NUL and is exactly its length; a path also counts its final NUL
    socklen_t addr_len = offsetof(struct sockaddr_un, sun_path) + path_len + (path[0] == '/');
    if (path[0] == '@') addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
      sent = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) == (ssize_t)len;
      close(fd);
    }
  }
  napi_get_boolean(env, sent, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "notify", NAPI_AUTO_LENGTH, notify, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "notify", fn) != napi_ok)
    return NULL;
  return exports;
}
