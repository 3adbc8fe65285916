/*
 * tips: see tips.h.
 */
#include "tips.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <unistd.h>

#include "proc.h"
#include "state.h"

/* How long pre-receive waits for another push noting its tip. */
#define ACCEPTED_LOCK_WAIT 10

static void tips_path(struct buf *out, const char *state_dir, const char *name)
{
	buf_printf(out, "%s/tips/%s.json", state_dir, name);
}

static int write_json(const char *state_dir, const char *name, json_t *value, struct buf *err)
{
	struct buf path = BUF_INIT;
	tips_path(&path, state_dir, name);
	char *text = json_dumps(value, JSON_COMPACT);
	int rc = text ? state_replace(path.data, text, strlen(text), err) : -1;
	if (!text)
		buf_adds(err, "out of memory");
	free(text);
	json_decref(value);
	buf_free(&path);
	return rc;
}

/* The file's object, or NULL when there is none (err empty) or it cannot
 * be read (err says why). */
static json_t *read_json(const char *state_dir, const char *name, struct buf *err)
{
	struct buf path = BUF_INIT;
	tips_path(&path, state_dir, name);
	json_error_t error;
	struct stat st;
	json_t *value = NULL;
	if (stat(path.data, &st) < 0 && errno == ENOENT)
		value = NULL;
	else if (!(value = json_load_file(path.data, 0, &error)))
		buf_printf(err, "cannot read %s: %s", path.data, error.text);
	else if (!json_is_object(value)) {
		buf_printf(err, "%s is not a JSON object", path.data);
		json_decref(value);
		value = NULL;
	}
	buf_free(&path);
	return value;
}

static const char *field(json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));
	return value ? value : "";
}

/* The accepted tips, oldest first: a fresh array when there is no file. */
static json_t *accepted_tips(const char *state_dir, struct buf *err)
{
	json_t *file = read_json(state_dir, "accepted", err);
	json_t *tips = file ? json_incref(json_object_get(file, "tips")) : json_array();
	if (file && !json_is_array(tips)) {
		buf_printf(err, "%s/tips/accepted.json holds no \"tips\" list", state_dir);
		json_decref(tips);
		tips = NULL;
	}
	json_decref(file);
	return tips;
}

int tips_note_accepted(const char *state_dir, const char *old_id, const char *new_id,
		       const char *user, const char *user_source, pid_t receiver, struct buf *err)
{
	struct proc_info info;
	unsigned long long start = receiver > 0 && proc_read(receiver, &info) == 0 ? info.start : 0;
	struct buf lock_path = BUF_INIT;
	buf_printf(&lock_path, "%s/tips/accepted.lock", state_dir);
	struct state_holder me = {
	    .pid = getpid(), .user = (char *)user, .revision = (char *)new_id};
	struct state_lock lock;
	int locked = state_lock(&lock, lock_path.data, &me, ACCEPTED_LOCK_WAIT, err) == 0;
	buf_free(&lock_path);
	if (!locked)
		return -1;
	json_t *tips = accepted_tips(state_dir, err);
	int rc = -1;
	if (tips) {
		/* The same tip pushed again replaces its entry; the oldest go. */
		for (size_t i = json_array_size(tips); i-- > 0;)
			if (!strcmp(field(json_array_get(tips, i), "new"), new_id))
				json_array_remove(tips, i);
		json_array_append_new(tips,
				      json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "old",
						old_id, "new", new_id, "user", user ? user : "",
						"user_source", user_source ? user_source : "",
						"receiver", (int)receiver, "receiver_start",
						(json_int_t)start, "time", (json_int_t)time(NULL)));
		while (json_array_size(tips) > TIPS_KEPT)
			json_array_remove(tips, 0);
		rc = write_json(state_dir, "accepted", json_pack("{s:o}", "tips", tips), err);
	}
	state_unlock(&lock);
	return rc;
}

int tips_note_queued(const char *state_dir, const char *revision, struct buf *err)
{
	return write_json(state_dir, "queued", json_pack("{s:s}", "revision", revision), err);
}

/* The accepted entry for tip, or NULL. */
static json_t *accepted_entry(json_t *tips, const char *tip)
{
	for (size_t i = json_array_size(tips); tips && i-- > 0;)
		if (!strcmp(field(json_array_get(tips, i), "new"), tip))
			return json_array_get(tips, i);
	return NULL;
}

int tips_unqueued(const char *state_dir, const char *tip, int catch_up, struct buf *from,
		  struct buf *user, struct buf *user_source, struct buf *err)
{
	json_t *tips = accepted_tips(state_dir, err);
	json_t *queued = read_json(state_dir, "queued", err);
	int rc = err->len ? -1 : 0;
	json_t *noted = accepted_entry(tips, tip);
	int receiving =
	    noted && proc_alive((pid_t)json_integer_value(json_object_get(noted, "receiver")),
				(unsigned long long)json_integer_value(
				    json_object_get(noted, "receiver_start")));
	/* Noted and its receive-pack gone; or, when asked to catch up, not
	 * noted at all (the state could not be written then, or the ref moved
	 * without a push) but past what was queued last. */
	if (rc == 0 && strcmp(field(queued, "revision"), tip) && !receiving &&
	    (noted || (catch_up && queued))) {
		buf_adds(from, queued ? field(queued, "revision") : field(noted, "old"));
		buf_adds(user, noted ? field(noted, "user") : "");
		buf_adds(user_source, noted ? field(noted, "user_source") : "");
		rc = 1;
	}
	json_decref(tips);
	json_decref(queued);
	return rc;
}
