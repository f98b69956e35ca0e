import type { Pool } from '@flotilla/db';
import type { Role } from '@flotilla/auth';

/** A user as stored; `passwordHash` never leaves the service. */
export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, email, name, role, password_hash, created_at, updated_at';

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** SQL for the users table; every query is parameterised. */
export function createUsersRepository(db: Pool) {
  return {
    /** Inserts a user; a duplicate email (any case) raises the pg unique violation on users_email_lower_key. */
    async insert(user: { email: string; name: string; passwordHash: string }): Promise<UserRecord> {
      const { rows } = await db.query<UserRow>(
        `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [user.email, user.name, user.passwordHash],
      );
      return toRecord(rows[0] as UserRow);
    },

    async findById(id: string): Promise<UserRecord | undefined> {
      const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async findByEmail(email: string): Promise<UserRecord | undefined> {
      const { rows } = await db.query<UserRow>(
        `SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`,
        [email],
      );
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async update(
      id: string,
      changes: { name?: string; passwordHash?: string },
    ): Promise<UserRecord | undefined> {
      const { rows } = await db.query<UserRow>(
        `UPDATE users
            SET name = COALESCE($2, name),
                password_hash = COALESCE($3, password_hash),
                updated_at = now()
          WHERE id = $1
      RETURNING ${COLUMNS}`,
        [id, changes.name ?? null, changes.passwordHash ?? null],
      );
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
