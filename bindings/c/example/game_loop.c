/*
 * Sign-in in a game's frame loop with the C ABI: nothing blocks a frame.
 *
 * The device flow suits a console or a TV: the game shows a code, the player
 * approves it on a phone, and each frame the game polls the task without
 * blocking. Once signed in it fetches an access token the same way (to call
 * the game's backend). The player can give up: the task is cancelled.
 *
 * Usage: game_loop ISSUER CLIENT_ID [MAX_FRAMES]
 *   MAX_FRAMES (default 36000, ten minutes at 60 fps): stop waiting after
 *   that many frames, as if the player pressed "back".
 * Build: gcc -I bindings/c bindings/c/example/game_loop.c -L DIR -lzitadel_sdk_ffi
 */
#define _POSIX_C_SOURCE 200809L
#include "zitadel_sdk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum screen { SHOW_CODE, FETCH_TOKEN, PLAYING, GAVE_UP, FAILED };

/* Shows an SDK error (the JSON written to `out`) and frees it. */
static void report(const char *what, int32_t status, char *error_json) {
    fprintf(stderr, "%s: %s %s\n", what, zid_status_name(status), error_json ? error_json : "");
    zid_string_free(error_json);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s ISSUER CLIENT_ID [MAX_FRAMES]\n", argv[0]);
        return 2;
    }
    long max_frames = argc > 3 ? strtol(argv[3], NULL, 10) : 36000;

    char config[1024];
    snprintf(config, sizeof config, "{\"issuer\":\"%s\",\"client_id\":\"%s\"}", argv[1], argv[2]);
    ZidClient client = 0;
    char *text = NULL;
    int32_t st = zid_client_new(config, &client, &text);
    if (st != ZID_OK) {
        report("configuration", st, text);
        return 1;
    }

    /* Starting the device login makes one request; do it on a loading screen. */
    ZidDevice device = 0;
    ZidTask task = 0;
    st = zid_device_start(client, &device, &text);
    if (st != ZID_OK) {
        report("device login", st, text);
        zid_client_free(client);
        return 1;
    }
    printf("To sign in, open the verification page and enter the code: %s\n", text);
    zid_string_free(text);
    st = zid_device_wait_async(device, &task, &text);
    if (st != ZID_OK) {
        report("device login", st, text);
        zid_device_free(device);
        zid_client_free(client);
        return 1;
    }

    enum screen screen = SHOW_CODE;
    struct timespec frame_time = {0, 16 * 1000 * 1000};
    for (long frame = 0; screen == SHOW_CODE || screen == FETCH_TOKEN; frame++) {
        /* ... input, simulation, rendering of this frame ... */
        if (frame == max_frames && screen == SHOW_CODE) {
            zid_task_cancel(task); /* the player pressed "back" */
        }
        st = zid_task_poll(task, &text);
        if (st == ZID_PENDING) {
            nanosleep(&frame_time, NULL);
            continue;
        }
        zid_task_free(task);
        task = 0;
        if (screen == SHOW_CODE && st == ZID_OK) {
            printf("Signed in after %ld frames.\n", frame);
            zid_string_free(text);
            screen = zid_access_token_async(client, &task, NULL) == ZID_OK ? FETCH_TOKEN : FAILED;
        } else if (screen == FETCH_TOKEN && st == ZID_OK) {
            printf("Got an access token for the game's backend (%zu characters).\n", strlen(text));
            zid_string_free(text);
            screen = PLAYING;
        } else if (st == ZID_ERR_CANCELLED) {
            printf("Sign-in cancelled after %ld frames.\n", frame);
            zid_string_free(text);
            screen = GAVE_UP;
        } else {
            report("sign-in", st, text);
            screen = FAILED;
        }
    }

    zid_device_free(device);
    zid_client_free(client);
    return screen == FAILED ? 1 : 0;
}
