/* tips: a tip of the deploy branch that git accepted is unqueued until
 * post-receive queues it, and only once the receive-pack that took it is
 * gone. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tips.h"

#define OLD "1111111111111111111111111111111111111111"
#define TIP "2222222222222222222222222222222222222222"

static char dir[] = "/tmp/gitgate-tips-XXXXXX";

static void setup(void)
{
	strcpy(dir, "/tmp/gitgate-tips-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	const char *argv[] = {"rm", "-rf", dir, NULL};
	pid_t child = fork();
	if (child == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(child, NULL, 0);
}

TestSuite(tips, .init = setup, .fini = teardown);

/* A process standing for a receive-pack: alive until ended. */
static pid_t receive_pack(void)
{
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	return child;
}

/* It ends, as a receive-pack does when its client has hung up. */
static void end(pid_t receiver)
{
	kill(receiver, SIGKILL);
	waitpid(receiver, NULL, 0);
}

/* Where the last unqueued tip's pusher's name came from. */
static char source[64];

static int unqueued_when(const char *tip, int catch_up, struct buf *from, struct buf *user)
{
	struct buf err = BUF_INIT, user_source = BUF_INIT;
	buf_clear(from);
	buf_clear(user);
	int rc = tips_unqueued(dir, tip, catch_up, from, user, &user_source, &err);
	cr_assert_neq(rc, -1, "%s", err.data);
	snprintf(source, sizeof(source), "%s", user_source.data ? user_source.data : "");
	buf_free(&err);
	buf_free(&user_source);
	return rc;
}

static int unqueued(const char *tip, struct buf *from, struct buf *user)
{
	return unqueued_when(tip, 0, from, user);
}

Test(tips, nothing_accepted_is_nothing_unqueued)
{
	struct buf from = BUF_INIT, user = BUF_INIT;
	cr_assert_eq(unqueued(TIP, &from, &user), 0);
	buf_free(&from);
	buf_free(&user);
}

Test(tips, an_accepted_tip_is_unqueued_once_its_receive_pack_is_gone)
{
	struct buf from = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	pid_t receiver = receive_pack();
	/* Noted while the receiver lives: its post-receive may still come. */
	cr_assert_eq(tips_note_accepted(dir, OLD, TIP, "alice", "gitolite GL_USER", receiver, &err),
		     0, "%s", err.data);
	cr_assert_eq(unqueued(TIP, &from, &user), 0, "the receive-pack still lives");
	end(receiver);
	cr_assert_eq(unqueued(TIP, &from, &user), 1);
	cr_assert_str_eq(from.data, OLD, "nothing was queued before: from the old tip");
	cr_assert_str_eq(user.data, "alice");
	cr_assert_str_eq(source, "gitolite GL_USER");
	/* Not the branch's tip any more: a newer push is the one to deploy. */
	cr_assert_eq(unqueued(OLD, &from, &user), 0);
	cr_assert_eq(tips_note_queued(dir, TIP, &err), 0, "%s", err.data);
	cr_assert_eq(unqueued(TIP, &from, &user), 0, "queued: nothing left to find");
	buf_free(&from);
	buf_free(&user);
	buf_free(&err);
}

Test(tips, what_was_queued_before_is_where_the_changes_start)
{
	struct buf from = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	cr_assert_eq(tips_note_queued(dir, OLD, &err), 0, "%s", err.data);
	pid_t receiver = receive_pack();
	cr_assert_eq(tips_note_accepted(dir, "3333333333333333333333333333333333333333", TIP, "bob",
					"os", receiver, &err),
		     0, "%s", err.data);
	end(receiver);
	cr_assert_eq(unqueued(TIP, &from, &user), 1);
	cr_assert_str_eq(from.data, OLD);
	buf_free(&from);
	buf_free(&user);
	buf_free(&err);
}

Test(tips, a_broken_record_is_an_error_that_names_it)
{
	struct buf path = BUF_INIT, from = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	cr_assert_eq(tips_note_queued(dir, OLD, &err), 0, "%s", err.data);
	buf_printf(&path, "%s/tips/accepted.json", dir);
	FILE *f = fopen(path.data, "w");
	fputs("{\"new\": ", f);
	fclose(f);
	cr_assert_eq(tips_unqueued(dir, TIP, 0, &from, &user, &user, &err), -1);
	cr_assert_not_null(strstr(err.data, "accepted.json"), "%s", err.data);
	buf_free(&path);
	buf_free(&from);
	buf_free(&user);
	buf_free(&err);
}

/* A tip no hook noted (the state was read-only, or the server runs no
 * reference-transaction hook): found when catching up, once something was
 * queued before and it is not this tip; never by the worker's own start. */
Test(tips, catching_up_finds_a_tip_no_hook_noted)
{
	struct buf from = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	cr_assert_eq(unqueued_when(TIP, 1, &from, &user), 0, "nothing was ever queued here");
	cr_assert_eq(tips_note_queued(dir, OLD, &err), 0, "%s", err.data);
	cr_assert_eq(unqueued_when(TIP, 0, &from, &user), 0, "only when catching up");
	cr_assert_eq(unqueued_when(TIP, 1, &from, &user), 1);
	cr_assert_str_eq(from.data, OLD);
	cr_assert_str_eq(user.data, "", "who pushed it is not known");
	cr_assert_eq(unqueued_when(OLD, 1, &from, &user), 0, "what was queued last");
	/* A push in flight, noted with its receive-pack alive, is still left
	 * to its own post-receive. */
	pid_t receiver = receive_pack();
	cr_assert_eq(tips_note_accepted(dir, OLD, TIP, "alice", "os", receiver, &err), 0, "%s",
		     err.data);
	cr_assert_eq(unqueued_when(TIP, 1, &from, &user), 0);
	end(receiver);
	buf_free(&from);
	buf_free(&user);
	buf_free(&err);
}

/* Two pushes in flight at once: each tip keeps its own pusher, so the one
 * that was cut off is found with its own name, whichever noted last. */
Test(tips, each_accepted_tip_keeps_its_pusher)
{
	struct buf from = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	pid_t first = receive_pack(), second = receive_pack();
	cr_assert_eq(tips_note_accepted(dir, OLD, TIP, "alice", "gitolite GL_USER", first, &err), 0,
		     "%s", err.data);
	cr_assert_eq(tips_note_accepted(dir, OLD, "3333333333333333333333333333333333333333", "bob",
					"gitolite GL_USER", second, &err),
		     0, "%s", err.data);
	end(first);
	cr_assert_eq(unqueued(TIP, &from, &user), 1);
	cr_assert_str_eq(user.data, "alice");
	cr_assert_eq(unqueued("3333333333333333333333333333333333333333", &from, &user), 0,
		     "bob's receive-pack still lives");
	end(second);
	/* Only the newest TIPS_KEPT are kept. */
	for (int i = 0; i < TIPS_KEPT; i++) {
		char id[41];
		snprintf(id, sizeof(id), "%040d", i + 10);
		cr_assert_eq(tips_note_accepted(dir, OLD, id, "carol", "os", 0, &err), 0, "%s",
			     err.data);
	}
	cr_assert_eq(unqueued(TIP, &from, &user), 0, "alice's tip was pushed out");
	buf_free(&from);
	buf_free(&user);
	buf_free(&err);
}
