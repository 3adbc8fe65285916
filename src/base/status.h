/*
 * status: the exit statuses every gitgate command and hook shares.
 */
#ifndef GITGATE_STATUS_H
#define GITGATE_STATUS_H

enum gitgate_status {
	STATUS_PASSED = 0,   /* warnings allowed */
	STATUS_REJECTED = 1, /* a rule or gate said no */
	STATUS_USAGE = 2,    /* bad usage or a bad rules.ini */
	STATUS_FAULT = 3,    /* git, I/O or a service failed */
};

#endif
