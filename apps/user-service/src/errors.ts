import { defineErrors } from '@flotilla/http';

/** user-service's error catalog: stable codes clients can rely on. */
export const errors = defineErrors({
  USER_EMAIL_TAKEN: { status: 409, message: 'A user with this email is already registered.' },
  USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  AUTH_INVALID_CREDENTIALS: { status: 401, message: 'The email or password is wrong.' },
  AUTH_INVALID_CLIENT: { status: 401, message: 'The client id or secret is wrong.' },
  AUTH_CURRENT_PASSWORD_WRONG: { status: 403, message: 'The current password is wrong.' },
  AUTH_PASSWORD_CHANGE_FORBIDDEN: {
    status: 403,
    message: 'Only the user can change their own password.',
  },
});
