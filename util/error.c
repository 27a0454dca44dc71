/* util/error.c — the code → message table (see error.h). */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *sl_strerror(int code)
{
	switch (code) {
	case SL_OK:
		return "success";
#define SL_ERROR_MESSAGE(name, value, message) \
	case name:                             \
		return message;
		SL_ERROR_LIST(SL_ERROR_MESSAGE)
#undef SL_ERROR_MESSAGE
	default:
		return "unknown error";
	}
}

const char *sl_errname(int code)
{
	switch (code) {
	case SL_OK:
		return "SL_OK";
#define SL_ERROR_NAME(name, value, message) \
	case name:                          \
		return #name;
		SL_ERROR_LIST(SL_ERROR_NAME)
#undef SL_ERROR_NAME
	default:
		return "SL_E?";
	}
}

int sl_error_set(struct sl_error_detail *detail, int code, const char *format, ...)
{
	if (detail != NULL) {
		va_list args;
		va_start(args, format);
		int written = vsnprintf(detail->text, sizeof(detail->text), format, args);
		va_end(args);
		if (written < 0)
			detail->text[0] = '\0';
	}
	return code;
}
