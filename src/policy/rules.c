/*
 * rules: reading rules.ini with inih and checking it. See rules.h.
 *
 * inih's handler is not told the line it is on, so the file is fed through
 * a reader that counts lines; the handler then knows exactly where each key
 * stands. Cross-section checks (overlapping paths, units naming unknown
 * projects) run once the whole file is read, and point at the line of the
 * later of the two conflicting entries.
 */
#include "rules.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAX_LINE_BYTES (1024 * 1024)
#define DEFAULT_MATCH_LIMIT 1000000u
#define INI_LINE_LIMIT (64 * 1024)

struct loader {
	struct rules *rules;
	struct buf *errors;
	FILE *file;
	int line;
	int at_line_start;
	int failed;
	/* Where the current section's entry lives, to append its keys there. */
	enum {
		SEC_NONE,
		SEC_GITGATE,
		SEC_PROJECT,
		SEC_UNIT,
		SEC_ISOLATION,
		SEC_SHARED,
		SEC_FORBIDDEN,
		SEC_SCAN,
		SEC_PUSH,
		SEC_UNKNOWN
	} kind;
	char *section; /* the raw section header last seen */
	char **named;  /* every "[kind NAME]" header so far, to catch repeats */
	int *named_lines;
	size_t nnamed, named_cap, named_lines_cap;
};

static void problem(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct loader *ld, int line, const char *fmt, ...)
{
	va_list ap;
	if (line > 0)
		buf_printf(ld->errors, "%s:%d: ", ld->rules->file, line);
	else if (*ld->rules->file)
		buf_printf(ld->errors, "%s: ", ld->rules->file);
	va_start(ap, fmt);
	buf_vprintf(ld->errors, fmt, ap);
	va_end(ap);
	buf_addc(ld->errors, '\n');
	ld->failed = 1;
}

static void begin_section(struct loader *ld, const char *header);

/* inih tells the handler nothing of empty sections, so headers are seen here. */
static void notice_section_header(struct loader *ld, const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '[')
		return;
	const char *end = strchr(line, ']');
	if (!end)
		return; /* inih reports the malformed line */
	char *header = xstrndup(line + 1, (size_t)(end - line - 1));
	begin_section(ld, header);
	free(header);
}

static char *count_lines_reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	if (!fgets(str, num, ld->file))
		return NULL;
	if (ld->at_line_start) {
		ld->line++;
		notice_section_header(ld, str);
	}
	size_t len = strlen(str);
	ld->at_line_start = len > 0 && str[len - 1] == '\n';
	return str;
}

static int parse_severity(struct loader *ld, const char *value, enum severity *out)
{
	if (severity_parse(value, out) < 0) {
		problem(ld, ld->line, "'%s' is not a severity: use error, warn or off", value);
		return -1;
	}
	return 0;
}

static int parse_size(struct loader *ld, const char *key, const char *value, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(value, &end, 10);
	if (errno || end == value || *end || v == 0 || v > max || value[0] == '-') {
		problem(ld, ld->line, "%s must be a whole number from 1 to %llu, not '%s'", key,
			max, value);
		return -1;
	}
	*out = v;
	return 0;
}

/* Calls fn for each whitespace-separated word of value. */
static void each_word(struct loader *ld, const char *value, void *target,
		      void (*fn)(struct loader *, void *, const char *))
{
	const char *p = value;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t");
		if (!n)
			break;
		char *word = xstrndup(p, n);
		fn(ld, target, word);
		free(word);
		p += n;
	}
}

static void add_glob(struct loader *ld, void *target, const char *word)
{
	const char *why;
	if (globlist_add(target, word, &why) < 0)
		problem(ld, ld->line, "bad glob '%s': %s", word, why);
}

struct string_list {
	char ***items;
	size_t *n, *cap;
};

static void add_string(struct loader *ld, void *target, const char *word)
{
	(void)ld;
	struct string_list *list = target;
	*ARRAY_PUSH(*list->items, *list->n, *list->cap) = xstrdup(word);
}

/* "main" means refs/heads/main; a full "refs/..." name stands as it is. */
static void add_ref_name(struct loader *ld, void *target, const char *word)
{
	struct string_list *list = target;
	struct buf ref = BUF_INIT;
	if (strncmp(word, "refs/", 5))
		buf_adds(&ref, "refs/heads/");
	buf_adds(&ref, word);
	if (strpbrk(word, " ~^:?*[\\") || strstr(word, ".."))
		problem(ld, ld->line, "protected ref '%s' is not a ref name", word);
	else
		*ARRAY_PUSH(*list->items, *list->n, *list->cap) = xstrdup(ref.data);
	buf_free(&ref);
}

static void set_string(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static int has_name(const char *header, const char *prefix, const char **name)
{
	size_t n = strlen(prefix);
	if (strncmp(header, prefix, n) || header[n] != ' ')
		return 0;
	const char *p = header + n;
	while (*p == ' ')
		p++;
	*name = p;
	return 1;
}

static int valid_name(const char *name)
{
	if (!*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("-_.", *p))
			return 0;
	return 1;
}

/* Checks the NAME of a "[kind NAME]" header: its spelling, and that no
 * earlier section had the same. The section is read either way, so that
 * its keys are checked too. */
static void named_section(struct loader *ld, const char *kind, const char *name)
{
	struct buf key = BUF_INIT;
	buf_printf(&key, "%s %s", kind, name);
	for (size_t i = 0; i < ld->nnamed; i++)
		if (!strcmp(ld->named[i], key.data))
			problem(ld, ld->line, "duplicate %s '%s' (first defined on line %d)", kind,
				name, ld->named_lines[i]);
	if (!valid_name(name))
		problem(ld, ld->line, "%s name '%s' may use only letters, digits, '-', '_' and '.'",
			kind, name);
	*ARRAY_PUSH(ld->named, ld->nnamed, ld->named_cap) = buf_detach(&key);
	grow_array((void **)&ld->named_lines, &ld->named_lines_cap, ld->nnamed, sizeof(int));
	ld->named_lines[ld->nnamed - 1] = ld->line;
}

static void begin_section(struct loader *ld, const char *header)
{
	struct rules *r = ld->rules;
	const char *name;
	free(ld->section);
	ld->section = xstrdup(header);
	ld->kind = SEC_UNKNOWN;
	if (!strcmp(header, "gitgate")) {
		ld->kind = SEC_GITGATE;
	} else if (!strcmp(header, "isolation")) {
		ld->kind = SEC_ISOLATION;
	} else if (!strcmp(header, "shared")) {
		ld->kind = SEC_SHARED;
	} else if (!strcmp(header, "forbidden")) {
		ld->kind = SEC_FORBIDDEN;
	} else if (!strcmp(header, "push")) {
		ld->kind = SEC_PUSH;
	} else if (has_name(header, "project", &name)) {
		named_section(ld, "project", name);
		ld->kind = SEC_PROJECT;
		struct project *p = ARRAY_PUSH(r->projects, r->nprojects, r->projects_cap);
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(name);
		p->line = ld->line;
	} else if (has_name(header, "unit", &name)) {
		named_section(ld, "unit", name);
		ld->kind = SEC_UNIT;
		struct unit *u = ARRAY_PUSH(r->units, r->nunits, r->units_cap);
		memset(u, 0, sizeof(*u));
		u->name = xstrdup(name);
		u->line = ld->line;
	} else if (has_name(header, "scan", &name)) {
		named_section(ld, "scan", name);
		ld->kind = SEC_SCAN;
		struct scan_rule *s = ARRAY_PUSH(r->scans, r->nscans, r->scans_cap);
		memset(s, 0, sizeof(*s));
		s->name = xstrdup(name);
		s->rule_id = xstrdup(name);
		s->severity = SEVERITY_ERROR;
		s->line = ld->line;
	} else {
		problem(ld, ld->line,
			"unknown section [%s]: expected gitgate, project NAME, unit NAME, "
			"isolation, shared, forbidden, push or scan NAME",
			header);
	}
}

static int unknown_key(struct loader *ld, const char *key, const char *allowed)
{
	problem(ld, ld->line, "unknown key '%s' in [%s]: expected one of %s", key, ld->section,
		allowed);
	return 1;
}

static void add_pattern(struct loader *ld, struct scan_rule *s, const char *source)
{
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, NULL);
	if (!re) {
		PCRE2_UCHAR message[256];
		pcre2_get_error_message(code, message, sizeof(message));
		problem(ld, ld->line, "bad pattern '%s': %s at offset %zu", source,
			(const char *)message, (size_t)offset);
		return;
	}
	struct pattern *p = ARRAY_PUSH(s->patterns, s->npatterns, s->patterns_cap);
	p->source = xstrdup(source);
	p->code = re;
	p->jit_ready = 0;
	p->uses = 0;
	p->buffer_code = NULL;
	p->line = ld->line;
}

static int handle_key(void *user, const char *section, const char *key, const char *value)
{
	struct loader *ld = user;
	struct rules *r = ld->rules;
	(void)section;
	if (!ld->section) {
		problem(ld, ld->line, "'%s' stands before any [section]", key);
		return 1;
	}
	unsigned long long n;
	switch (ld->kind) {
	case SEC_GITGATE:
		if (!strcmp(key, "allow_marker")) {
			if (!*value)
				problem(ld, ld->line, "allow_marker must not be empty");
			else
				set_string(&r->allow_marker, value);
		} else if (!strcmp(key, "max_line_bytes")) {
			if (!parse_size(ld, key, value, 256ull << 20, &n))
				r->max_line_bytes = (size_t)n;
		} else if (!strcmp(key, "match_limit")) {
			if (!parse_size(ld, key, value, UINT32_MAX, &n))
				r->match_limit = (uint32_t)n;
		} else {
			return unknown_key(ld, key, "allow_marker, max_line_bytes, match_limit");
		}
		break;
	case SEC_PROJECT: {
		struct project *p = &r->projects[r->nprojects - 1];
		if (!strcmp(key, "path")) {
			size_t len = strlen(value);
			if (!len || value[0] == '/' || strstr(value, "..") ||
			    strpbrk(value, "*?[")) {
				problem(ld, ld->line,
					"project path '%s' must be a plain folder relative to the "
					"top, like 'argo/'",
					value);
			} else {
				free(p->path);
				p->path = xmalloc(len + 2);
				memcpy(p->path, value, len + 1);
				if (value[len - 1] != '/')
					strcat(p->path, "/");
			}
		} else if (!strcmp(key, "description")) {
			set_string(&p->description, value);
		} else {
			return unknown_key(ld, key, "path, description");
		}
		break;
	}
	case SEC_UNIT: {
		struct unit *u = &r->units[r->nunits - 1];
		if (!strcmp(key, "projects")) {
			struct string_list list = {&u->projects, &u->nprojects, &u->projects_cap};
			each_word(ld, value, &list, add_string);
		} else if (!strcmp(key, "aliases")) {
			struct string_list list = {&u->aliases, &u->naliases, &u->aliases_cap};
			each_word(ld, value, &list, add_string);
		} else {
			return unknown_key(ld, key, "projects, aliases");
		}
		break;
	}
	case SEC_ISOLATION:
		if (!strcmp(key, "severity"))
			parse_severity(ld, value, &r->isolation);
		else
			return unknown_key(ld, key, "severity");
		break;
	case SEC_SHARED:
		if (!strcmp(key, "path")) {
			size_t len = strlen(value);
			if (!len || value[0] == '/' || strpbrk(value, "*?[")) {
				problem(ld, ld->line,
					"shared path '%s' must be a plain folder like 'packages/'",
					value);
			} else {
				free(r->shared_path);
				r->shared_path = xmalloc(len + 2);
				memcpy(r->shared_path, value, len + 1);
				if (value[len - 1] != '/')
					strcat(r->shared_path, "/");
			}
		} else if (!strcmp(key, "version_bump")) {
			parse_severity(ld, value, &r->version_bump);
		} else {
			return unknown_key(ld, key, "path, version_bump");
		}
		break;
	case SEC_PUSH:
		if (!strcmp(key, "protected")) {
			struct string_list list = {&r->push.protected_refs, &r->push.nprotected,
						   &r->push.protected_cap};
			r->push.protected_set = 1; /* any "protected" replaces the default */
			each_word(ld, value, &list, add_ref_name);
		} else if (!strcmp(key, "deploy_branch")) {
			if (!*value || strpbrk(value, " ~^:?*[\\"))
				problem(ld, ld->line, "deploy_branch '%s' is not a branch name",
					value);
			else
				set_string(&r->push.deploy_branch, value);
		} else if (!strcmp(key, "baseline")) {
			set_string(&r->push.baseline, value);
		} else if (!strcmp(key, "deadline_seconds")) {
			if (!parse_size(ld, key, value, 3600, &n))
				r->push.deadline_seconds = (unsigned)n;
		} else if (!strcmp(key, "bypass_users")) {
			struct string_list list = {&r->push.bypass_users, &r->push.nbypass_users,
						   &r->push.bypass_users_cap};
			each_word(ld, value, &list, add_string);
		} else {
			return unknown_key(
			    ld, key,
			    "protected, deploy_branch, baseline, deadline_seconds, bypass_users");
		}
		break;
	case SEC_FORBIDDEN:
		if (!strcmp(key, "severity"))
			parse_severity(ld, value, &r->forbidden_severity);
		else if (!strcmp(key, "paths"))
			each_word(ld, value, &r->forbidden, add_glob);
		else
			return unknown_key(ld, key, "severity, paths");
		break;
	case SEC_SCAN: {
		struct scan_rule *s = &r->scans[r->nscans - 1];
		if (!strcmp(key, "rule")) {
			if (!valid_name(value))
				problem(
				    ld, ld->line,
				    "rule id '%s' may use only letters, digits, '-', '_' and '.'",
				    value);
			else
				set_string(&s->rule_id, value);
		} else if (!strcmp(key, "severity")) {
			parse_severity(ld, value, &s->severity);
		} else if (!strcmp(key, "files")) {
			each_word(ld, value, &s->files, add_glob);
		} else if (!strcmp(key, "exclude")) {
			each_word(ld, value, &s->exclude, add_glob);
		} else if (!strcmp(key, "pattern")) {
			add_pattern(ld, s, value);
		} else if (!strcmp(key, "message")) {
			set_string(&s->message, value);
		} else if (!strcmp(key, "hint")) {
			set_string(&s->hint, value);
		} else {
			return unknown_key(
			    ld, key, "rule, severity, files, exclude, pattern, message, hint");
		}
		break;
	}
	default:
		break; /* the unknown section was reported once, at its header */
	}
	return 1;
}

static int paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return !strncmp(a, b, la < lb ? la : lb);
}

static struct unit *find_unit_mut(struct rules *r, const char *name)
{
	for (size_t i = 0; i < r->nunits; i++) {
		struct unit *u = &r->units[i];
		if (!strcmp(u->name, name))
			return u;
		for (size_t j = 0; j < u->naliases; j++)
			if (!strcmp(u->aliases[j], name))
				return u;
	}
	return NULL;
}

static void finish(struct loader *ld)
{
	struct rules *r = ld->rules;
	for (size_t i = 0; i < r->nprojects; i++) {
		struct project *p = &r->projects[i];
		if (!p->path) {
			problem(ld, p->line, "project '%s' has no path", p->name);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (r->projects[j].path && paths_overlap(r->projects[j].path, p->path))
				problem(ld, p->line,
					"project '%s' path '%s' overlaps project '%s' path '%s' "
					"(line %d)",
					p->name, p->path, r->projects[j].name, r->projects[j].path,
					r->projects[j].line);
		if (r->shared_path && paths_overlap(r->shared_path, p->path))
			problem(ld, p->line, "project '%s' path '%s' overlaps the shared path '%s'",
				p->name, p->path, r->shared_path);
	}
	/* Each project belongs to one unit: the one that names it, or its own. */
	size_t explicit_units = r->nunits;
	for (size_t i = 0; i < explicit_units; i++) {
		struct unit *u = &r->units[i];
		if (!u->nprojects)
			problem(ld, u->line, "unit '%s' lists no projects", u->name);
		for (size_t j = 0; j < u->naliases; j++) {
			struct unit *other = find_unit_mut(r, u->aliases[j]);
			if (other != u)
				problem(ld, u->line,
					"alias '%s' of unit '%s' is already the name of unit '%s'",
					u->aliases[j], u->name, other->name);
		}
	}
	const char **owner = xcalloc(r->nprojects, sizeof(*owner));
	for (size_t i = 0; i < explicit_units; i++) {
		struct unit *u = &r->units[i];
		for (size_t j = 0; j < u->nprojects; j++) {
			size_t k;
			for (k = 0; k < r->nprojects; k++)
				if (!strcmp(r->projects[k].name, u->projects[j]))
					break;
			if (k == r->nprojects)
				problem(ld, u->line, "unit '%s' names unknown project '%s'",
					u->name, u->projects[j]);
			else if (owner[k])
				problem(ld, u->line,
					"project '%s' is in unit '%s' and in unit '%s'",
					u->projects[j], owner[k], u->name);
			else
				owner[k] = u->name;
		}
	}
	for (size_t k = 0; k < r->nprojects; k++) {
		if (owner[k])
			continue;
		if (find_unit_mut(r, r->projects[k].name)) {
			problem(ld, r->projects[k].line,
				"project '%s' has the name of a unit it is not in",
				r->projects[k].name);
			continue;
		}
		struct unit *u = ARRAY_PUSH(r->units, r->nunits, r->units_cap);
		memset(u, 0, sizeof(*u));
		u->name = xstrdup(r->projects[k].name);
		*ARRAY_PUSH(u->projects, u->nprojects, u->projects_cap) = xstrdup(u->name);
		u->line = r->projects[k].line;
	}
	free(owner);
	for (size_t i = 0; i < r->nunits; i++)
		for (size_t j = 0; j < r->units[i].nprojects; j++)
			for (size_t k = 0; k < r->nprojects; k++)
				if (!strcmp(r->projects[k].name, r->units[i].projects[j]))
					r->projects[k].unit = &r->units[i];
	if (!r->push.protected_set) {
		struct buf ref = BUF_INIT;
		buf_printf(&ref, "refs/heads/%s", r->push.deploy_branch);
		*ARRAY_PUSH(r->push.protected_refs, r->push.nprotected, r->push.protected_cap) =
		    xstrdup(ref.data);
		buf_free(&ref);
	}
	if (!r->nprojects && !r->forbidden.n && !r->nscans)
		problem(ld, 0,
			"defines no check (no [project], no [forbidden] paths, no [scan]): a rules "
			"file that allows everything is refused; is it empty or cut short?");
	for (size_t i = 0; i < r->nscans; i++) {
		struct scan_rule *s = &r->scans[i];
		if (!s->npatterns)
			problem(ld, s->line, "scan '%s' has no pattern", s->name);
		if (!s->files.n)
			problem(ld, s->line,
				"scan '%s' has no files: add 'files = *.js' (or '*' for all)",
				s->name);
	}
}

/* Only a regular file that can be read is a policy: a directory (what a
 * bind mount of a missing file makes) or an empty path must never load as
 * "no rules". */
static int open_rules_file(struct loader *ld, const char *path)
{
	struct stat st;
	if (!*path) {
		problem(ld, 0, "the rules path is empty (check git config gitgate.rules)");
		return -1;
	}
	ld->file = fopen(path, "r");
	if (!ld->file) {
		problem(ld, 0, "cannot read rules: %s", strerror(errno));
		return -1;
	}
	int stat_rc = fstat(fileno(ld->file), &st);
	if (stat_rc < 0 || !S_ISREG(st.st_mode)) {
		problem(ld, 0, "cannot read rules: %s",
			stat_rc < 0	      ? strerror(errno)
			: S_ISDIR(st.st_mode) ? "it is a directory, not a file"
					      : "not a regular file");
		fclose(ld->file);
		ld->file = NULL;
		return -1;
	}
	return 0;
}

int rules_load(struct rules *rules, const char *path, struct buf *errors)
{
	memset(rules, 0, sizeof(*rules));
	rules->file = xstrdup(path);
	rules->allow_marker = xstrdup("gitgate:allow");
	rules->max_line_bytes = DEFAULT_MAX_LINE_BYTES;
	rules->match_limit = DEFAULT_MATCH_LIMIT;
	rules->isolation = SEVERITY_ERROR;
	rules->version_bump = SEVERITY_WARNING;
	rules->forbidden_severity = SEVERITY_ERROR;
	rules->push.deploy_branch = xstrdup("main");
	rules->push.deadline_seconds = 20;

	struct loader ld = {.rules = rules, .errors = errors, .at_line_start = 1};
	if (open_rules_file(&ld, path) < 0)
		return -1;
	/* Patterns hold ';' and '#', so only whole-line comments exist. */
	ini_allow_inline_comments = 0;
	ini_allow_multiline = 0;
	ini_use_stack = 0;
	ini_allow_realloc = 1;
	ini_max_line = INI_LINE_LIMIT;
	int bad_line = ini_parse_stream(count_lines_reader, &ld, handle_key, &ld);
	int read_failed = ferror(ld.file);
	fclose(ld.file);
	if (read_failed)
		problem(&ld, 0, "cannot read rules: %s", strerror(EIO));
	else if (bad_line > 0)
		problem(&ld, bad_line, "expected '[section]' or 'key = value'");
	else if (bad_line < 0)
		problem(&ld, 0, "cannot parse rules (out of memory or I/O error)");
	free(ld.section);
	for (size_t i = 0; i < ld.nnamed; i++)
		free(ld.named[i]);
	free(ld.named);
	free(ld.named_lines);
	finish(&ld);
	return ld.failed ? -1 : 0;
}

static void free_strings(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

void rules_free(struct rules *r)
{
	for (size_t i = 0; i < r->nprojects; i++) {
		free(r->projects[i].name);
		free(r->projects[i].path);
		free(r->projects[i].description);
	}
	free(r->projects);
	for (size_t i = 0; i < r->nunits; i++) {
		free(r->units[i].name);
		free_strings(r->units[i].aliases, r->units[i].naliases);
		free_strings(r->units[i].projects, r->units[i].nprojects);
	}
	free(r->units);
	for (size_t i = 0; i < r->nscans; i++) {
		struct scan_rule *s = &r->scans[i];
		free(s->name);
		free(s->rule_id);
		free(s->message);
		free(s->hint);
		globlist_free(&s->files);
		globlist_free(&s->exclude);
		for (size_t j = 0; j < s->npatterns; j++) {
			free(s->patterns[j].source);
			pcre2_code_free(s->patterns[j].code);
			pcre2_code_free(s->patterns[j].buffer_code);
		}
		free(s->patterns);
	}
	free(r->scans);
	globlist_free(&r->forbidden);
	free(r->shared_path);
	free(r->allow_marker);
	free_strings(r->push.protected_refs, r->push.nprotected);
	free_strings(r->push.bypass_users, r->push.nbypass_users);
	free(r->push.deploy_branch);
	free(r->push.baseline);
	free(r->file);
	memset(r, 0, sizeof(*r));
}

const struct project *rules_project_of(const struct rules *r, const char *path)
{
	for (size_t i = 0; i < r->nprojects; i++)
		if (!strncmp(path, r->projects[i].path, strlen(r->projects[i].path)))
			return &r->projects[i];
	return NULL;
}

int rules_is_shared(const struct rules *r, const char *path)
{
	return r->shared_path && !strncmp(path, r->shared_path, strlen(r->shared_path));
}

const struct unit *rules_find_unit(const struct rules *r, const char *name)
{
	return find_unit_mut((struct rules *)r, name);
}

int rules_ref_is_protected(const struct rules *r, const char *ref)
{
	for (size_t i = 0; i < r->push.nprotected; i++)
		if (!strcmp(r->push.protected_refs[i], ref))
			return 1;
	return 0;
}

int rules_user_may_bypass(const struct rules *r, const char *user)
{
	for (size_t i = 0; user && i < r->push.nbypass_users; i++)
		if (!strcmp(r->push.bypass_users[i], user))
			return 1;
	return 0;
}
