/**
 * The dashboard's accounts table (#agents): who can sign in, with approve / refuse, disable /
 * enable, role and password actions. A thin view: the dashboard owns the list (`accounts`) and
 * passes what each action does (it calls the server, reports errors and flashes the notice).
 */
import { signal } from '@preact/signals';
import type { JSX } from 'preact';
import type { RestBody, RestReply } from '../../client/rest.js';
import { ActionButton, Badge, DataTable, type Column } from '../../ui/components.js';
import { formatDateTime } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';

export type Account = RestReply<'listUsers'>['users'][number];

/** The accounts shown, waiting-for-approval first; undefined before the first answer. */
export const accounts = signal<Account[] | undefined>(undefined);

export interface AccountActions {
  /** The signed-in admin's id ("you"). */
  selfId: string | undefined;
  patch(u: Account, body: RestBody<'updateUser'>, done: (name: string) => string): Promise<void>;
  resetPassword(u: Account): Promise<void>;
}

export function AccountsTable(props: AccountActions): JSX.Element {
  const t = text.value;
  const st = t.static;
  const D = t.dash;
  const rows = [...(accounts.value ?? [])].sort((a, z) => Number(z.status === 'pending') - Number(a.status === 'pending') || a.name.localeCompare(z.name));
  const buttons = (u: Account): JSX.Element[] => {
    const out: JSX.Element[] = [];
    const act = (key: string, cls: string, label: string, body: RestBody<'updateUser'>, done: (name: string) => string) =>
      out.push(
        <ActionButton key={key} class={cls} onClick={() => props.patch(u, body, done)}>
          {label}
        </ActionButton>,
      );
    if (u.status === 'pending') {
      act('approve', 'approve primary', D.approve, { status: 'active' }, D.approved);
      act('refuse', 'disable', D.refuse, { status: 'disabled' }, D.refused);
    } else if (u.status === 'active') act('disable', 'disable', D.disable, { status: 'disabled' }, D.disabled);
    else if (u.status === 'disabled') act('enable', 'enable', D.enable, { status: 'active' }, D.enabled);
    if (u.status !== 'withdrawn') {
      const target: 'admin' | 'agent' = u.role === 'admin' ? 'agent' : 'admin';
      out.push(
        <ActionButton key="role" class="role" data-to={target} onClick={() => props.patch(u, { role: target }, D.nowRole[target])}>
          {D.makeRole[target]}
        </ActionButton>,
      );
      out.push(
        <ActionButton key="reset" class="reset" onClick={() => props.resetPassword(u)}>
          {D.resetPassword}
        </ActionButton>,
      );
    }
    return out;
  };
  const columns: Column<Account>[] = [
    {
      key: 'name',
      label: st['name'] ?? '',
      cell: (u) => (
        <>
          {u.name}
          {u.id === props.selfId && <span class="muted">{D.you}</span>}
        </>
      ),
    },
    { key: 'email', label: st['email'] ?? '', cell: (u) => u.email },
    { key: 'role-cell', label: st['role'] ?? '', cell: (u) => <Badge label={D.roleName[u.role] ?? u.role} code={u.role} /> },
    { key: 'status', label: st['status'] ?? '', cell: (u) => <Badge label={D.accountStatus[u.status] ?? u.status} code={u.status} /> },
    { key: 'created', label: st['created'] ?? '', cell: (u) => (u.createdAt ? formatDateTime(u.createdAt) : '—') },
    { key: 'actions', class: '', label: st['actions'] ?? '', cell: (u) => <div class="actions">{buttons(u)}</div> },
  ];
  return (
    <DataTable
      bodyId="agents"
      columns={columns}
      rows={rows}
      rowKey={(u) => u.id}
      empty={accounts.value ? '—' : D.loading}
      rowProps={(u) => ({ 'data-user-id': u.id, 'data-role': u.role, 'data-status': u.status, class: u.status !== 'active' ? 'inactive' : undefined })}
    />
  );
}
