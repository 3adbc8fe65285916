/*
 * pusher: who is pushing, as the server's logs record it.
 */
#ifndef GITGATE_PUSHER_H
#define GITGATE_PUSHER_H

/* GITGATE_USER, GL_USERNAME (GitLab), REMOTE_USER (HTTP), else the OS user. */
const char *pusher_name(void);

#endif
