/* hsmca-ceremony: check, plan and run a key ceremony from one reviewed
 * ceremony file (and a local environment file). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/run.h"
#include "cli/cli.h"
#include "common/err.h"

static const char usage_line[] =
    "hsmca-ceremony check FILE | plan FILE [--env ENV] [--out DIR] "
    "[--rehearse] | run FILE --out DIR [--env ENV | --rehearse] "
    "[--non-interactive] | run --resume DIR [--env ENV]";

static const char usage[] =
    "usage: hsmca-ceremony check FILE\n"
    "       hsmca-ceremony plan  FILE [--env ENV] [--out DIR] [--rehearse]\n"
    "       hsmca-ceremony run   FILE --out DIR [--env ENV] "
    "[--non-interactive]\n"
    "       hsmca-ceremony run   FILE --out DIR --rehearse "
    "[--non-interactive]\n"
    "       hsmca-ceremony run   --resume DIR [FILE] [--env ENV] "
    "[--non-interactive]\n"
    "\n"
    "Run a key ceremony (root, subca, cross, crl, revoke-subca, key) from a\n"
    "reviewed ceremony file, step by step in front of a witness, with the\n"
    "hsmca tools. The environment file gives what differs between machines\n"
    "(PKCS#11 module, PIN source, the approvers' keys present).\n"
    "\n"
    "  check    validate FILE and what it names (quorum file, CSR,\n"
    "           certificates and their SHA-256); print its SHA-256 and words\n"
    "  plan     print every step with the exact tool command lines\n"
    "  run      pre-flight, then each step; the witness types \"yes\" at each\n"
    "           confirmation; DIR gets the transcript, the outputs,\n"
    "           progress.json, SHA256SUMS and record.pdf\n"
    "\n"
    "  --out DIR          the output directory (new or empty)\n"
    "  --env ENV          the environment file (module, module_init_args,\n"
    "                     pin_source, tools, approvers' keys)\n"
    "  --rehearse         SoftHSM tokens and throwaway approver keys under\n"
    "                     DIR/rehearsal: the whole ceremony on any machine\n"
    "  --resume DIR       continue a ceremony that stopped, after checking\n"
    "                     again what it did (key, approvals, outputs)\n"
    "  --non-interactive  ask the witness nothing (tests, make demo); needs\n"
    "                     pin_source and every expected approver's key\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 done, 1 error, 2 usage (or a bad ceremony or environment\n"
    "file), 3 a check or the quorum refused, 4 the witness did not confirm.\n";

/* The room: the screen, the witness at the keyboard. */
static void ui_text(void *ctx, const char *text)
{
	(void)ctx;
	fputs(text, stdout);
	fflush(stdout);
}

static void ui_warn(void *ctx, const char *text)
{
	(void)ctx;
	fflush(stdout);
	fputs(text, stderr);
}

static int ui_answer(void *ctx, char *buf, size_t len)
{
	(void)ctx;
	return fgets(buf, (int)len, stdin) != NULL ? 0 : -1;
}

enum {
	OPT_ENV = 1,
	OPT_OUT,
	OPT_REHEARSE,
	OPT_RESUME,
	OPT_NONINTERACTIVE,
	OPT_HELP,
	OPT_VERSION
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"env", required_argument, NULL, OPT_ENV},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"rehearse", no_argument, NULL, OPT_REHEARSE},
	    {"resume", required_argument, NULL, OPT_RESUME},
	    {"non-interactive", no_argument, NULL, OPT_NONINTERACTIVE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	static const struct ca_ceremony_ui ui = {ui_text, ui_warn, ui_answer,
						 NULL};
	struct ca_ceremony_opts o;
	struct ca_common c;
	const char *cmd;
	int opt, rc;

	memset(&o, 0, sizeof(o));
	o.ui = &ui;
	o.interactive = 1;
	ca_cli_start(&c, "ceremony", usage_line, NULL);
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("hsmca-ceremony %s\n", HSMCA_VERSION);
		return 0;
	}
	/* An option first is checked as options are (--pin refused by name,
	 * no abbreviations, nothing echoed) before the command is asked for. */
	if (argc >= 2 && argv[1][0] == '-' &&
	    ca_cli_getopt(argc, argv, opts, NULL, &c, usage) == CA_OPT_USAGE)
		return 2;
	if (argc < 2 || argv[1][0] == '-')
		return ca_usage_error(usage_line,
				      "a command is required: check, "
				      "plan or run");
	cmd = argv[1];
	if (strcmp(cmd, "check") != 0 && strcmp(cmd, "plan") != 0 &&
	    strcmp(cmd, "run") != 0)
		return ca_usage_error(usage_line,
				      "unknown command (not shown): "
				      "check, plan or run");
	/* getopt sees the command as its program name; the shared option
	 * handling refuses abbreviations and --pin (cli/cli.h). */
	while ((opt = ca_cli_getopt(argc - 1, argv + 1, opts, NULL, &c,
				    usage)) >= 0) {
		switch (opt) {
		case OPT_ENV:
			o.env = optarg;
			break;
		case OPT_OUT:
			o.out = optarg;
			break;
		case OPT_REHEARSE:
			o.rehearse = 1;
			break;
		case OPT_RESUME:
			o.resume = optarg;
			break;
		case OPT_NONINTERACTIVE:
			o.interactive = 0;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			return 0;
		case OPT_VERSION:
			printf("hsmca-ceremony %s\n", HSMCA_VERSION);
			return 0;
		}
	}
	if (ca_cli_status(opt) >= 0)
		return ca_cli_status(opt);
	if (optind + 1 < argc - 1)
		return ca_usage_error(usage_line, "one ceremony file only");
	o.file = optind < argc - 1 ? argv[optind + 1] : NULL;
	if (o.file == NULL && (strcmp(cmd, "run") != 0 || o.resume == NULL))
		return ca_usage_error(usage_line, "%s needs a ceremony FILE",
				      cmd);
	if (strcmp(cmd, "check") == 0 &&
	    (o.env || o.out || o.rehearse || o.resume || !o.interactive))
		return ca_usage_error(usage_line, "check takes only a FILE");
	if (strcmp(cmd, "plan") == 0 && (o.resume || !o.interactive))
		return ca_usage_error(usage_line,
				      "--resume and --non-interactive "
				      "are for run");
	if (strcmp(cmd, "run") == 0) {
		if (o.resume != NULL && (o.out != NULL || o.rehearse))
			return ca_usage_error(
			    usage_line, "--resume DIR continues "
					"in DIR, as it was begun: no --out "
					"or --rehearse");
		if (o.resume == NULL && o.out == NULL)
			return ca_usage_error(usage_line,
					      "run needs --out DIR");
		if (o.rehearse && o.env != NULL)
			return ca_usage_error(usage_line,
					      "--rehearse makes its "
					      "own environment: no --env");
	}
	if (strcmp(cmd, "check") == 0)
		rc = ca_ceremony_check(&o);
	else if (strcmp(cmd, "plan") == 0)
		rc = ca_ceremony_plan(&o);
	else
		rc = ca_ceremony_run(&o, argc, argv);
	if (rc < 0 && ca_errmsg()[0] != '\0')
		fprintf(stderr, "hsmca-ceremony: %s%s\n",
			rc == CA_EPOLICY ? "refused: " : "", ca_errmsg());
	return rc == CA_CER_STOPPED ? 4 : ca_exit_code(rc);
}
