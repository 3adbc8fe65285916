/*
 * host: what every backend shares (host.h).
 */
#include "host.h"

void host_close(struct host *h)
{
	if (h)
		h->ops->close(h);
}

const char *host_name(const struct host *h)
{
	return h->address ? h->address : "this machine";
}

int host_run_checked(struct host *h, const struct host_command *c, struct buf *err)
{
	struct run_result r;
	if (host_run(h, c, &r, err) < 0)
		return -1;
	if (r.code == 0 && !r.timed_out)
		return 0;
	if (h->address)
		buf_printf(err, "on %s: ", h->address);
	buf_adds(err, c->argv[0]);
	buf_addc(err, ' ');
	run_describe(err, &r);
	return -1;
}
