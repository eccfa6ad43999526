/* config.json: the process section (args, env, cwd, user, terminal,
 * rlimits, oomScoreAdj, noNewPrivileges; capabilities in config_caps.c). */
#include "libbhc.h"

#include <stdio.h>
#include <string.h>

static const char *const unsupported_process[] = {
    "apparmorProfile", "selinuxLabel", "ioPriority", "scheduler", "execCPUAffinity", "commandLine"};

static int parse_user(yyjson_val *user, struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *v, *g;
	struct json_path p;
	size_t i, max;

	if (json_object(user, "$.process.user", err) < 0)
		return -1;
	if (json_u32(yyjson_obj_get(user, "uid"), "$.process.user.uid", &cfg->uid, err) < 0 ||
	    json_u32(yyjson_obj_get(user, "gid"), "$.process.user.gid", &cfg->gid, err) < 0)
		return -1;
	if (yyjson_obj_get(user, "username"))
		return bh_error(err, 0,
		                "$.process.user.username: not supported by bhc (Windows only)");
	v = yyjson_obj_get(user, "umask");
	if (v) {
		uint32_t m;

		if (json_u32(v, "$.process.user.umask", &m, err) < 0)
			return -1;
		if (m > 0777)
			return bh_error(err, 0, "$.process.user.umask: %u is not a file mode", m);
		cfg->umask = (int)m;
	}
	v = yyjson_obj_get(user, "additionalGids");
	if (!v)
		return 0;
	if (json_array(v, "$.process.user.additionalGids", err) < 0)
		return -1;
	if (yyjson_arr_size(v) > sizeof(cfg->gids) / sizeof(*cfg->gids))
		return bh_error(err, 0, "$.process.user.additionalGids: more than %zu groups",
		                sizeof(cfg->gids) / sizeof(*cfg->gids));
	yyjson_arr_foreach(v, i, max, g)
	{
		if (json_u32(g, json_at(&p, "$.process.user.additionalGids", "[%zu]", i), &cfg->gids[i],
		          err) < 0)
			return -1;
	}
	cfg->n_gids = max;
	return 0;
}

static int parse_rlimits(yyjson_val *list, struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *r;
	struct json_path p, q;
	size_t i, max;

	if (json_array(list, "$.process.rlimits", err) < 0)
		return -1;
	if (yyjson_arr_size(list) > BHC_MAX_RLIMITS)
		return bh_error(err, 0, "$.process.rlimits: more than %d entries", BHC_MAX_RLIMITS);
	yyjson_arr_foreach(list, i, max, r)
	{
		struct bhc_rlimit *rl = &cfg->rlimits[i];
		const char *type;

		json_at(&p, "$.process.rlimits", "[%zu]", i);
		if (json_object(r, p.s, err) < 0 ||
		    json_string(yyjson_obj_get(r, "type"), json_at(&q, p.s, ".type"), &type, err) < 0)
			return -1;
		rl->resource = bhc_rlimit_from_name(type);
		if (rl->resource < 0)
			return bh_error(err, 0, "%s: '%s' is not a resource limit", q.s, type);
		if (json_u64(yyjson_obj_get(r, "soft"), json_at(&q, p.s, ".soft"), &rl->soft, err) < 0 ||
		    json_u64(yyjson_obj_get(r, "hard"), json_at(&q, p.s, ".hard"), &rl->hard, err) < 0)
			return -1;
		if (rl->soft > rl->hard)
			return bh_error(err, 0, "%s: soft limit %llu is above the hard limit %llu",
			                p.s, (unsigned long long)rl->soft,
			                (unsigned long long)rl->hard);
	}
	cfg->n_rlimits = max;
	return 0;
}

static int parse_console(yyjson_val *v, struct bhc_config *cfg, struct bh_error *err)
{
	uint32_t h, w;

	if (json_object(v, "$.process.consoleSize", err) < 0 ||
	    json_u32(yyjson_obj_get(v, "height"), "$.process.consoleSize.height", &h, err) < 0 ||
	    json_u32(yyjson_obj_get(v, "width"), "$.process.consoleSize.width", &w, err) < 0)
		return -1;
	if (h > 0xffff || w > 0xffff)
		return bh_error(err, 0, "$.process.consoleSize: %ux%u is too large", w, h);
	cfg->console_rows = (unsigned short)h;
	cfg->console_cols = (unsigned short)w;
	return 0;
}

static int parse_env(struct bhc_config *cfg, struct bh_error *err)
{
	struct json_path p;

	for (size_t i = 0; i < cfg->n_env; i++)
		if (!strchr(cfg->env[i], '=') || cfg->env[i][0] == '=')
			return bh_error(err, 0, "%s: '%s' is not NAME=value",
			                json_at(&p, "$.process.env", "[%zu]", i), cfg->env[i]);
	return 0;
}

int bhc_parse_process(yyjson_val *proc, struct bhc_config *cfg, struct bh_error *err)
{
	yyjson_val *v;
	int64_t oom;

	if (json_object(proc, "$.process", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(unsupported_process) / sizeof(*unsupported_process); i++) {
		v = yyjson_obj_get(proc, unsupported_process[i]);
		/* Empty strings are what generators write when the feature is off. */
		if (v && !(yyjson_is_str(v) && yyjson_get_len(v) == 0))
			return bh_error(err, 0, "$.process.%s: not supported by bhc",
			                unsupported_process[i]);
	}
	if (json_strings(yyjson_obj_get(proc, "args"), "$.process.args", &cfg->args, &cfg->n_args,
	              err) < 0)
		return -1;
	if (cfg->n_args == 0 || !cfg->args[0][0])
		return bh_error(err, 0, "$.process.args: must name a program");
	v = yyjson_obj_get(proc, "env");
	if (v && (json_strings(v, "$.process.env", &cfg->env, &cfg->n_env, err) < 0 ||
	          parse_env(cfg, err) < 0))
		return -1;
	if (json_string(yyjson_obj_get(proc, "cwd"), "$.process.cwd", &cfg->cwd, err) < 0)
		return -1;
	if (cfg->cwd[0] != '/')
		return bh_error(err, 0, "$.process.cwd: '%s' is not an absolute path", cfg->cwd);
	v = yyjson_obj_get(proc, "terminal");
	if (v && json_bool(v, "$.process.terminal", &cfg->terminal, err) < 0)
		return -1;
	v = yyjson_obj_get(proc, "consoleSize");
	if (v && parse_console(v, cfg, err) < 0)
		return -1;
	v = yyjson_obj_get(proc, "user");
	if (!v)
		return bh_error(err, 0, "$.process.user: missing");
	if (parse_user(v, cfg, err) < 0)
		return -1;
	v = yyjson_obj_get(proc, "capabilities");
	if (v && bhc_parse_caps(v, cfg, err) < 0)
		return -1;
	v = yyjson_obj_get(proc, "rlimits");
	if (v && parse_rlimits(v, cfg, err) < 0)
		return -1;
	/* noNewPrivileges: always on. The seccomp filter is loaded after the
	 * capabilities are cut, and without CAP_SYS_ADMIN, which bhc never
	 * grants, the kernel only takes a filter from a no_new_privs process;
	 * false is a warning (when absent, nothing was asked for). */
	v = yyjson_obj_get(proc, "noNewPrivileges");
	if (v && !yyjson_is_bool(v))
		return json_type_error(err, "$.process.noNewPrivileges", "a boolean", v);
	if (v && !yyjson_get_bool(v))
		bhc_warn(cfg, "$.process.noNewPrivileges",
		         "false ignored: bhc always sets no_new_privs (its seccomp filter is loaded "
		         "without CAP_SYS_ADMIN, which needs it, and no setuid or file capability "
		         "may raise the workload's privileges)");
	v = yyjson_obj_get(proc, "oomScoreAdj");
	if (v) {
		if (json_i64(v, "$.process.oomScoreAdj", &oom, err) < 0)
			return -1;
		if (oom < -1000 || oom > 1000)
			return bh_error(err, 0,
			                "$.process.oomScoreAdj: %lld is outside -1000..1000",
			                (long long)oom);
		cfg->has_oom_score_adj = true;
		cfg->oom_score_adj = (int)oom;
	}
	return 0;
}
