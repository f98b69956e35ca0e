import type { JsonCache } from '@flotilla/cache';
import { PG_ERROR, isPgError } from '@flotilla/db';
import { commonErrors } from '@flotilla/http';
import { errors } from '../errors.ts';
import type { PasswordHasher } from '../auth/passwords.ts';
import type { Principal } from '@flotilla/auth';
import type { TokenService } from '../auth/tokens.ts';
import type { UserRecord, UsersRepository } from './users.repository.ts';
import type { LoginInput, RegisterInput, UpdateInput } from './users.schemas.ts';

/** A user as clients see it: never a password or its hash. */
export interface UserView {
  id: string;
  email: string;
  name: string;
  role: UserRecord['role'];
  createdAt: string;
  updatedAt: string;
}

export interface Clock {
  now(): number;
}

export interface UsersServiceDeps {
  repository: UsersRepository;
  hasher: PasswordHasher;
  tokens: TokenService;
  /** Profile reads are cached here and invalidated on update; it fails open. */
  profiles: JsonCache<UserView>;
  clock: Clock;
}

function toView(user: UserRecord): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** Registration, login and profiles. No HTTP here: routes translate. */
export function createUsersService({
  repository,
  hasher,
  tokens,
  profiles,
  clock,
}: UsersServiceDeps) {
  // Verifying against a real hash when the email is unknown makes both failures take as long,
  // so response times do not reveal which emails are registered.
  const decoyHash = hasher.hash('decoy password that matches nothing');

  async function loadProfile(id: string): Promise<UserView> {
    const cached = await profiles.get(id);
    if (cached) return cached;
    const user = await repository.findById(id);
    if (!user) throw errors.create('USER_NOT_FOUND');
    const view = toView(user);
    await profiles.set(id, view);
    return view;
  }

  function mayRead(principal: Principal, id: string): boolean {
    return principal.userId === id || principal.role === 'admin';
  }

  // Other services (order-service checking a customer) may read profiles, never change them.
  function mayLookUp(principal: Principal, id: string): boolean {
    return mayRead(principal, id) || principal.role === 'service';
  }

  return {
    async register(input: RegisterInput): Promise<UserView> {
      const passwordHash = await hasher.hash(input.password);
      try {
        return toView(
          await repository.insert({ email: input.email, name: input.name, passwordHash }),
        );
      } catch (err) {
        if (isPgError(err, PG_ERROR.UNIQUE_VIOLATION, 'users_email_lower_key')) {
          throw errors.create('USER_EMAIL_TAKEN', { cause: err });
        }
        throw err;
      }
    },

    async login(
      input: LoginInput,
    ): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }> {
      const user = await repository.findByEmail(input.email.trim());
      const valid = await hasher.verify(input.password, user?.passwordHash ?? (await decoyHash));
      if (!user || !valid) throw errors.create('AUTH_INVALID_CREDENTIALS');
      const { accessToken, expiresIn } = await tokens.issue(
        { userId: user.id, role: user.role },
        clock.now(),
      );
      return { accessToken, tokenType: 'Bearer', expiresIn };
    },

    async getProfile(principal: Principal, id: string): Promise<UserView> {
      if (!mayLookUp(principal, id)) throw commonErrors.create('FORBIDDEN');
      return loadProfile(id);
    },

    async update(principal: Principal, id: string, input: UpdateInput): Promise<UserView> {
      if (!mayRead(principal, id)) throw commonErrors.create('FORBIDDEN');
      let passwordHash: string | undefined;
      if (input.newPassword !== undefined) {
        if (principal.userId !== id) throw errors.create('AUTH_PASSWORD_CHANGE_FORBIDDEN');
        const current = await repository.findById(id);
        if (!current) throw errors.create('USER_NOT_FOUND');
        if (!(await hasher.verify(input.currentPassword ?? '', current.passwordHash))) {
          throw errors.create('AUTH_CURRENT_PASSWORD_WRONG');
        }
        passwordHash = await hasher.hash(input.newPassword);
      }
      const updated = await repository.update(id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(passwordHash !== undefined ? { passwordHash } : {}),
      });
      if (!updated) throw errors.create('USER_NOT_FOUND');
      await profiles.delete(id);
      return toView(updated);
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
