/*
 * The C ABI against the emulator: device login (approved through the
 * emulator's login-client API with libcurl), userinfo, refresh, logout,
 * cancellation of a device-flow wait, and the handle rules.
 *
 * Usage: device_flow_test EMULATOR_BINARY
 * Starts `EMULATOR_BINARY --port 0`, reads its JSON line, runs the checks,
 * stops the emulator and prints "c-abi: N passed, M failed" (exit 0 only
 * when nothing failed). Built and run by scripts/test-bindings.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include "zitadel_sdk.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
            printf("ok     " __VA_ARGS__);                                   \
        } else {                                                             \
            failed++;                                                        \
            printf("FAILED " __VA_ARGS__);                                   \
            printf("       (%s:%d: %s)\n", __FILE__, __LINE__, #cond);       \
        }                                                                    \
        printf("\n");                                                        \
    } while (0)

/* ---- tiny JSON reading: the string value of "key" (first match), malloc'd ---- */

static char *json_str(const char *json, const char *key) {
    if (json == NULL) return NULL;
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    if (p == NULL) return NULL;
    p += strlen(pattern);
    size_t n = 0;
    while (p[n] != '\0' && !(p[n] == '"' && (n == 0 || p[n - 1] != '\\'))) n++;
    char *out = malloc(n + 1);
    if (out == NULL) return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

/* ---- the emulator ---- */

static pid_t emulator_pid = -1;

static char *start_emulator(const char *binary) {
    int fds[2];
    if (pipe(fds) != 0) return NULL;
    emulator_pid = fork();
    if (emulator_pid < 0) return NULL;
    if (emulator_pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (getenv("ZID_TEST_VERBOSE") == NULL) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, STDERR_FILENO);
        }
        execl(binary, binary, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    if (f == NULL) return NULL;
    char *line = NULL;
    size_t cap = 0;
    if (getline(&line, &cap, f) <= 0) {
        free(line);
        line = NULL;
    }
    /* The emulator only logs to stderr after this line; keep the pipe open. */
    return line;
}

static void stop_emulator(void) {
    if (emulator_pid > 0) {
        kill(emulator_pid, SIGTERM);
        waitpid(emulator_pid, NULL, 0);
        emulator_pid = -1;
    }
}

/* ---- HTTP to the emulator's login-client API (libcurl) ---- */

struct buffer {
    char *data;
    size_t len;
};

static size_t collect(char *chunk, size_t size, size_t n, void *userdata) {
    struct buffer *b = userdata;
    size_t add = size * n;
    char *grown = realloc(b->data, b->len + add + 1);
    if (grown == NULL) return 0;
    b->data = grown;
    memcpy(b->data + b->len, chunk, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* GET (body NULL) or POST JSON; returns the response body (malloc'd) and the status. */
static char *http(const char *url, const char *bearer, const char *body, long *status) {
    CURL *curl = curl_easy_init();
    if (curl == NULL) return NULL;
    struct buffer b = {calloc(1, 1), 0};
    char auth[1024];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    if (body != NULL) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    *status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return b.data;
}

/* Approves the device login of `user_code` as the user, like a login UI would. */
static int approve_device(const char *issuer, const char *token, const char *user_code,
                          const char *login, const char *password) {
    char url[512], body[1024];
    long status;
    snprintf(url, sizeof url, "%s/v2/sessions", issuer);
    snprintf(body, sizeof body,
             "{\"checks\":{\"user\":{\"loginName\":\"%s\"},\"password\":{\"password\":\"%s\"}}}",
             login, password);
    char *session = http(url, token, body, &status);
    char *sid = json_str(session, "sessionId");
    char *stoken = json_str(session, "sessionToken");
    CHECK(status == 201 && sid && stoken, "a session is created with the user's password (HTTP %ld)", status);

    snprintf(url, sizeof url, "%s/v2/oidc/device_authorization/%s", issuer, user_code);
    char *request = http(url, token, NULL, &status);
    char *id = json_str(request, "id");
    CHECK(status == 200 && id, "the device authorization is found by its user code (HTTP %ld)", status);

    int ok = 0;
    if (sid && stoken && id) {
        snprintf(url, sizeof url, "%s/v2/oidc/device_authorization/%s", issuer, id);
        snprintf(body, sizeof body, "{\"session\":{\"sessionId\":\"%s\",\"sessionToken\":\"%s\"}}", sid,
                 stoken);
        char *answer = http(url, token, body, &status);
        ok = status == 200;
        CHECK(ok, "the device authorization is approved (HTTP %ld)", status);
        free(answer);
    }
    free(session);
    free(sid);
    free(stoken);
    free(request);
    free(id);
    return ok;
}

/* ---- SDK helpers ---- */

/* Polls `task` like a frame loop (every 50 ms, up to `seconds`); writes its result. */
static int32_t wait_task(ZidTask task, int seconds, char **out) {
    struct timespec frame = {0, 50 * 1000 * 1000};
    for (int i = 0; i < seconds * 20; i++) {
        int32_t st = zid_task_poll(task, out);
        if (st != ZID_PENDING) return st;
        nanosleep(&frame, NULL);
    }
    return ZID_PENDING;
}

static int contains(const char *s, const char *part) { return s != NULL && strstr(s, part) != NULL; }

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s EMULATOR_BINARY\n", argv[0]);
        return 2;
    }
    const char *login = "alice@acme.localhost", *password = "Password1!";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("zitadel sdk %s\n", zid_version());

    char *seed = start_emulator(argv[1]);
    char *issuer = json_str(seed, "issuer");
    char *client_id = json_str(seed, "client_id");
    char *pat = json_str(seed, "login_client_token");
    CHECK(issuer && client_id && pat && contains(seed, login), "the emulator started (%s)",
          issuer ? issuer : "no issuer");
    if (!(issuer && client_id && pat)) goto done;

    /* In a keyring session (scripts/with-keyring.sh) the session lives in the
     * OS keyring, so a second client handle finds it. */
    const char *keyring_env = getenv("ZID_TEST_KEYRING");
    int keyring = keyring_env != NULL && strcmp(keyring_env, "1") == 0;
    char config[1024];
    snprintf(config, sizeof config, "{\"issuer\":\"%s\",\"client_id\":\"%s\"%s}", issuer, client_id,
             keyring ? ",\"store\":\"keyring\",\"keyring_service\":\"zitadel-sdk-c-test\"" : "");
    printf("token store: %s\n", keyring ? "the OS keyring" : "memory (no keyring session)");
    ZidClient client = 0;
    char *out = NULL;
    int32_t st = zid_client_new(config, &client, &out);
    CHECK(st == ZID_OK && client != 0, "zid_client_new: %s", zid_status_name(st));
    zid_string_free(out);

    st = zid_access_token(client, &out);
    CHECK(st == ZID_ERR_NOT_SIGNED_IN && contains(out, "\"name\":\"not_signed_in\""),
          "signed out: zid_access_token is not_signed_in with its JSON error (%s)", out);
    zid_string_free(out);
    st = zid_cached_access_token(client, &out);
    CHECK(st == ZID_OK && out && out[0] == '\0', "signed out: zid_cached_access_token is the empty string");
    zid_string_free(out);

    /* Device login. */
    ZidDevice device = 0;
    st = zid_device_start(client, &device, &out);
    char *user_code = json_str(out, "user_code");
    CHECK(st == ZID_OK && user_code && contains(out, "\"verification_uri\""),
          "zid_device_start: code %s", user_code ? user_code : "(none)");
    zid_string_free(out);
    ZidTask task = 0;
    st = zid_device_wait_async(device, &task, &out);
    CHECK(st == ZID_OK && task != 0, "zid_device_wait_async started a task");
    zid_string_free(out);
    CHECK(zid_task_poll(task, NULL) == ZID_PENDING, "the task is pending before approval");

    if (user_code) approve_device(issuer, pat, user_code, login, password);
    st = wait_task(task, 60, &out);
    char *subject = json_str(out, "subject");
    CHECK(st == ZID_OK && subject && contains(out, "\"has_refresh_token\":true"),
          "the device login completed: %s", out);
    zid_string_free(out);
    CHECK(zid_task_free(task) == ZID_OK && zid_task_free(task) == ZID_ERR_INVALID_INPUT,
          "a task frees once; a second free is invalid_input");
    CHECK(zid_device_free(device) == ZID_OK, "zid_device_free");

    /* The signed-in user. */
    st = zid_session(client, &out);
    CHECK(st == ZID_OK && subject && contains(out, subject), "zid_session names the subject");
    zid_string_free(out);
    st = zid_userinfo(client, &out);
    char *username = json_str(out, "preferred_username");
    CHECK(st == ZID_OK && username && strcmp(username, login) == 0 && subject && contains(out, subject),
          "zid_userinfo: preferred_username %s", username ? username : "(none)");
    free(username);
    zid_string_free(out);

    /* The profile through the generic self-service calls. */
    st = zid_call(client, "profile.get", NULL, &out);
    char *user_id = json_str(out, "user_id");
    CHECK(st == ZID_OK && user_id && subject && strcmp(user_id, subject) == 0,
          "zid_call profile.get reads the signed-in user (%s)", zid_status_name(st));
    free(user_id);
    zid_string_free(out);
    st = zid_call(client, "profile.update", "{\"given_name\":\"Grace\",\"gender\":\"female\"}", &out);
    CHECK(st == ZID_OK && out && strcmp(out, "null") == 0, "zid_call profile.update returns null (%s)", out);
    zid_string_free(out);
    ZidTask profile_task = 0;
    st = zid_call_async(client, "profile.get", "", &profile_task, NULL);
    st = st == ZID_OK ? wait_task(profile_task, 10, &out) : st;
    char *given = json_str(out, "given_name");
    CHECK(st == ZID_OK && given && strcmp(given, "Grace") == 0 && contains(out, "\"gender\":\"female\""),
          "zid_call_async profile.get sees the update (%s)", given ? given : "(none)");
    free(given);
    zid_string_free(out);
    zid_task_free(profile_task);
    st = zid_call(client, "profile.update", "{}", &out);
    CHECK(st == ZID_ERR_INVALID_INPUT && contains(out, "\"code\":3"), "an empty profile update is invalid_input");
    zid_string_free(out);
    st = zid_call(client, "profile.nope", NULL, &out);
    CHECK(st == ZID_ERR_INVALID_INPUT && contains(out, "unknown method"), "an unknown method is invalid_input");
    zid_string_free(out);
    CHECK(zid_call(client, "profile.get", "{not json", NULL) == ZID_ERR_INVALID_INPUT,
          "arguments that are not JSON are invalid_input");
    CHECK(zid_object_free(42) == ZID_ERR_INVALID_INPUT, "a forged object handle is refused");

    /* Refresh: a new access token. */
    char *before = NULL, *after = NULL;
    st = zid_access_token(client, &before);
    CHECK(st == ZID_OK && before && strlen(before) > 10, "zid_access_token");
    st = zid_cached_access_token(client, &out);
    CHECK(st == ZID_OK && before && out && strcmp(out, before) == 0,
          "zid_cached_access_token is the token in memory");
    zid_string_free(out);
    st = zid_refresh(client, &out);
    CHECK(st == ZID_OK && subject && contains(out, subject), "zid_refresh returns the session");
    zid_string_free(out);
    ZidTask token_task = 0;
    st = zid_access_token_async(client, &token_task, NULL);
    st = st == ZID_OK ? wait_task(token_task, 10, &after) : st;
    CHECK(st == ZID_OK && before && after && strcmp(before, after) != 0,
          "zid_access_token_async after the refresh returns a new token");
    zid_task_free(token_task);
    zid_string_free(before);
    zid_string_free(after);

    /* A second client on the same keyring store: the session outlives the handle. */
    ZidClient second = 0;
    if (keyring) {
        st = zid_client_new(config, &second, NULL);
        st = st == ZID_OK ? zid_session(second, &out) : st;
        CHECK(st == ZID_OK && subject && contains(out, subject),
              "a second client on the keyring store finds the session (%s)", zid_status_name(st));
        zid_string_free(out);
    }

    st = zid_end_session_url(client, NULL, NULL, &out);
    CHECK(st == ZID_OK && contains(out, "/oidc/v1/end_session"), "zid_end_session_url points at the end-session endpoint");
    zid_string_free(out);

    /* Cancelling a device-flow wait. */
    ZidDevice device2 = 0;
    ZidTask wait2 = 0;
    st = zid_device_start(client, &device2, NULL);
    st = st == ZID_OK ? zid_device_wait_async(device2, &wait2, NULL) : st;
    CHECK(st == ZID_OK && zid_task_cancel(wait2) == ZID_OK, "a second device login started and cancelled");
    st = wait_task(wait2, 10, &out);
    CHECK(st == ZID_ERR_CANCELLED && contains(out, "\"code\":6"), "the cancelled wait ends with cancelled (%s)",
          zid_status_name(st));
    zid_string_free(out);
    zid_task_free(wait2);
    zid_device_free(device2);

    /* Logout. */
    st = zid_logout(client, &out);
    CHECK(st == ZID_OK && contains(out, "\"revoked\":true"), "zid_logout: %s", out);
    zid_string_free(out);
    st = zid_session(client, &out);
    CHECK(st == ZID_OK && out && strcmp(out, "null") == 0, "after logout zid_session is null");
    zid_string_free(out);
    CHECK(zid_access_token(client, NULL) == ZID_ERR_NOT_SIGNED_IN, "after logout zid_access_token is not_signed_in");
    st = zid_cached_access_token(client, &out);
    CHECK(st == ZID_OK && out && out[0] == '\0', "after logout zid_cached_access_token is the empty string");
    zid_string_free(out);
    if (keyring) {
        CHECK(zid_client_free(second) == ZID_OK, "zid_client_free of the second client");
        ZidClient third = 0;
        st = zid_client_new(config, &third, NULL);
        st = st == ZID_OK ? zid_session(third, &out) : st;
        CHECK(st == ZID_OK && out && strcmp(out, "null") == 0,
              "after logout a new client on the keyring store finds no session");
        zid_string_free(out);
        zid_client_free(third);
    }

    /* Handles. */
    CHECK(zid_client_free(client) == ZID_OK, "zid_client_free");
    CHECK(zid_client_free(client) == ZID_ERR_INVALID_INPUT && zid_session(client, NULL) == ZID_ERR_INVALID_INPUT,
          "a freed client handle is refused with invalid_input");
    CHECK(zid_session(client ^ 0x5a5a, NULL) == ZID_ERR_INVALID_INPUT, "a forged handle is refused");
    free(subject);
    free(user_code);

done:
    stop_emulator();
    free(seed);
    free(issuer);
    free(client_id);
    free(pat);
    curl_global_cleanup();
    printf("c-abi: %d passed, %d failed\n", passed, failed);
    printf(failed == 0 && passed > 0 ? "C ABI TEST PASSED\n" : "C ABI TEST FAILED\n");
    return failed == 0 && passed > 0 ? 0 : 1;
}
