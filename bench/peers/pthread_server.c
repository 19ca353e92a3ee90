/* pthread_server: see pthread_server.h. */
#include "pthread_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct peer_pthread_server {
  pthread_mutex_t mu;
  pthread_cond_t request_ready; /* server waits here */
  pthread_cond_t reply_ready;   /* client waits here */
  int has_request;
  int has_reply;
  int stop;
  int value;
  pthread_t thread;
};

static void* serve(void* arg) {
  peer_pthread_server* s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->has_request && !s->stop) pthread_cond_wait(&s->request_ready, &s->mu);
    if (!s->has_request) break; /* stopped and drained */
    s->has_request = 0;
    s->value = s->value + 1;
    s->has_reply = 1;
    pthread_cond_signal(&s->reply_ready);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

peer_pthread_server* peer_pthread_server_start(void) {
  peer_pthread_server* s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->request_ready, NULL);
  pthread_cond_init(&s->reply_ready, NULL);
  int err = pthread_create(&s->thread, NULL, serve, s);
  if (err != 0) {
    pthread_cond_destroy(&s->reply_ready);
    pthread_cond_destroy(&s->request_ready);
    pthread_mutex_destroy(&s->mu);
    free(s);
    errno = err;
    return NULL;
  }
  return s;
}

int peer_pthread_server_call(peer_pthread_server* s, int request) {
  pthread_mutex_lock(&s->mu);
  s->value = request;
  s->has_request = 1;
  pthread_cond_signal(&s->request_ready);
  while (!s->has_reply) pthread_cond_wait(&s->reply_ready, &s->mu);
  s->has_reply = 0;
  int reply = s->value;
  pthread_mutex_unlock(&s->mu);
  return reply;
}

void peer_pthread_server_stop(peer_pthread_server* s) {
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_signal(&s->request_ready);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  pthread_cond_destroy(&s->reply_ready);
  pthread_cond_destroy(&s->request_ready);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
