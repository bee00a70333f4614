import { SetMetadata } from '@nestjs/common';

export const AUDIT_ACTION = 'hangar:audit-action';

// Names the change a mutating route makes in the audit log, e.g. @Audited('task.cancel').
// Every POST, PUT, PATCH and DELETE route carries one (a spec walks the routes to check).
export const Audited = (action: string) => SetMetadata(AUDIT_ACTION, action);
