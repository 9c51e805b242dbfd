import { z } from 'zod';
import { base64urlBytes, displayName, id, timestamp } from './common.js';

const name = displayName(100, "Ada's Pixel");

export const registerDeviceBody = z
  .strictObject({
    name,
    model: displayName(100, 'Pixel 9'),
    platform: z.enum(['android', 'ios', 'other']),
    identifierHash: base64urlBytes(32, 'SHA-256 of the hardware identifier, computed on the device'),
  })
  .meta({ id: 'RegisterDeviceRequest' });

export const renameDeviceBody = z.strictObject({ name }).meta({ id: 'RenameDeviceRequest' });

export const device = z
  .object({
    id: z.string(),
    name: z.string(),
    model: z.string(),
    platform: z.enum(['android', 'ios', 'other']),
    createdAt: timestamp('When the device was registered'),
    lastSeenAt: timestamp('When the device last used its token').nullable(),
    findEnabled: z.boolean().meta({ description: 'Find Device consent for this device' }),
    lostMode: z
      .object({ since: timestamp('When the owner’s lock command put it in Lost Mode') })
      .nullable()
      .meta({ id: 'LostMode', description: 'Set by a lock command, ended by an unlock command; null when not lost' }),
  })
  .meta({ id: 'Device' });

export const registeredDevice = z
  .object({
    device,
    token: z.string().meta({ description: 'The device token (hd_…). Shown once; only its hash is kept.' }),
  })
  .meta({ id: 'RegisteredDevice' });

export const deviceList = z.object({ devices: z.array(device) }).meta({ id: 'DeviceList' });

export const deviceIdParam = z.object({ deviceId: id('Device id') });
